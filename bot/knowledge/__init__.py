"""Knowledge base of past fixes: index terms and ranking, free of aiogram and the database."""
