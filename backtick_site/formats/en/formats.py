# Times in the admin with seconds and their zone, so that attempts a second apart and
# the zone they are shown in can be told apart.
DATETIME_FORMAT = "Y-m-d H:i:s T"
SHORT_DATETIME_FORMAT = "Y-m-d H:i:s T"
