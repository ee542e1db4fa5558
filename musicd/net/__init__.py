"""Network adapter: zeroconf discovery and the federation client."""
