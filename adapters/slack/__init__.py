"""The Slack adapter (slack-bolt): /advise, Block Kit, modals, Socket Mode or HTTP, OAuth.

Modules import lazily from here on purpose: ``crossroads slack manifest`` must not load
slack_bolt, and the core never imports this package.
"""
