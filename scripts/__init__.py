"""Small helper scripts for set-up and serving."""
