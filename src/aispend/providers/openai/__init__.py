"""OpenAI Platform: the Admin API usage, costs and directory connector, and its simulator."""
