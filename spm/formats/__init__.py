"""The project's display formats (``FORMAT_MODULE_PATH``): one per language, read by Django wherever it formats a
date, time or number for people, the admin included. docs/ARCHITECTURE.md ("Formats")."""
