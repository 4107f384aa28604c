"""Opinion groups (issue 20): how well the conversation math recovers known latent groups."""
