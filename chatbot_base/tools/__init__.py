from . import connector
