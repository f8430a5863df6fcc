"""SQL adapters (SQLAlchemy): the store on SQLite or PostgreSQL, its migrations."""
