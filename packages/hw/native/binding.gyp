{
  "targets": [
    {
      "target_name": "i2c_transfer",
      "sources": ["i2c_transfer.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags_c": ["-std=gnu11", "-Wall", "-Wextra"]
    }
  ]
}
