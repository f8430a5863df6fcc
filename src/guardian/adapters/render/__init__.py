"""Rendering: PDF (WeasyPrint) and QR codes (segno)."""
