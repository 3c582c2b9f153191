"""The Discord front end (discord.py 2.x): slash commands, DM consultations, components.

Transport and rendering only: every consultation step is an ``Engine.handle`` call.
"""
