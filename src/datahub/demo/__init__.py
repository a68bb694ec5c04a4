"""The bundled demo territory (``datahub demo``)."""
