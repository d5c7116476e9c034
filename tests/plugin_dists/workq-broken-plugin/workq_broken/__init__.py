"""A plugin whose import fails, as a plugin with a missing dependency would."""

import workq_no_such_dependency  # noqa: F401
