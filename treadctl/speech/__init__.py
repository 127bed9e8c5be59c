"""Spoken cues: the pure cue scheduler (``schedule``, ``phrases``) and the espeak-ng adapter
(``engine``). See docs/speech.md."""
