"""S3 event notifications: built locally exactly as S3 sends them, parsed by the trigger."""
