-- Campaign scenario lists, in run order. `default` lists the 35 always-on scenarios, and
-- `mtls_extra` is appended only when the mesh runs with tls_mode "mtls".
return {
  default = {
    "1", "1b", "2", "4", "5", "6", "9", "10", "11", "12", "13", "14", "15", "16", "17", "18",
    "22", "23", "24", "25", "28", "29", "30", "31", "32", "33", "34", "35", "36", "37", "38",
    "39", "40", "41", "42",
  },
  mtls_extra = { "20", "21" },
}
