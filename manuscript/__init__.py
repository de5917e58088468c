"""The document room: pandoc filters, bibliography links, fonts and the PDF build."""
