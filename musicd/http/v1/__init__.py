"""The Spotify-Web-API-shaped API under /v1: one controller module per resource group."""
