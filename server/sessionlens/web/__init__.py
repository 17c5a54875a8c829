"""sessionlens web UI and team hub (aiohttp): a layer beside lsp/ and cli, calling services/ only."""
