"""Updates: news that organizers write once and send to every confirmed signer who asked for it.

``services`` holds the write side (drafts, starting, queueing one email per recipient),
``delivery`` what the mail sender needs (batches, the rate, the email's context), ``routes`` the
organizers' pages and ``unsubscribe`` the signer's one-click way out.
"""
