"""repairbot: a hospital IT repair desk run from Telegram."""
