"""Turning what ward staff send (photos, voice) into report material; CPU work, run off the loop."""
