"""Jobs and items in the database: submission, queries, commands, and the outbox relay."""
