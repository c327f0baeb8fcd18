"""Settings: the dialog, shared servers, the privacy audit panel."""
