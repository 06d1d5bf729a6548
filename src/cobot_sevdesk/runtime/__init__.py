"""Running the use cases: the worker loop, the queue tasks, one attempt at an item,
the retry policy and the Cobot throttle. The only caller of ``sync``."""
