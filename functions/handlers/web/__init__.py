"""The HTTP side of the page handlers (review, oauth): requests read, results answered with pages. Not
Lambda entry points themselves: each handler module one level up is one."""
