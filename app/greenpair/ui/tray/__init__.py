"""The tray: live power, the menu, desktop integration, start on login."""
