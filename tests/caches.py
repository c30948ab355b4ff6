"""Emptying the default cache without touching what shares its Redis database.

Django's ``RedisCache.clear()`` is ``FLUSHDB``: in a test run it would also wipe the worker
heartbeat, the throttle counters and the Celery broker's queues of the other xdist worker, which
use the same Redis database under other key prefixes. ``clear_default_cache()`` deletes only the
default cache's own keys (``<KEY_PREFIX>:<version>:<key>``), and clears any other backend whole.
"""

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache


def clear_default_cache():
    cache = caches["default"]
    if not isinstance(cache, RedisCache):
        cache.clear()
        return
    client = cache._cache.get_client(write=True)
    pattern = cache.make_key("*", version=None).replace(f":{cache.version}:", ":*:", 1)
    keys = list(client.scan_iter(match=pattern, count=1000))
    if keys:
        client.delete(*keys)
