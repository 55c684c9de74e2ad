"""Constants shared by the plugin index (a leaf module: cheap to import)."""

PLUGIN_API_VERSION = "1.0"  # what plugins declare as __lamina_plugin_api__; majors must match
API_ATTRIBUTE = "__lamina_plugin_api__"
IN_PROCESS = "<in-process>"  # the "distribution" of lamina.plugins.register(...) entries
