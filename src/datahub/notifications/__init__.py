"""Telling people what happened: e-mail and signed webhooks, through a transactional outbox.

An event writes its messages in the transaction that makes it happen (:mod:`.service`), so a
message exists exactly when the event does; a background sender (:mod:`.delivery`) delivers them
afterwards with retries, so neither a slow mail server nor a slow webhook ever slows a request.
"""
