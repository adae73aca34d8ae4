{
  "targets": [
    {
      "target_name": "pidone",
      "sources": [
        "native/addon.cc",
        "native/errors.cc",
        "native/spawn.cc",
        "native/exec-plan.cc",
        "native/namespaces.cc",
        "native/wait.cc",
        "native/signals.cc",
        "native/process.cc",
        "native/prctl.cc",
        "native/pidfd.cc",
        "native/tty.cc",
        "native/bytes.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED", "_GNU_SOURCE"],
      "cflags_cc!": ["-fno-exceptions"],
      "cflags_cc": ["-fexceptions", "-std=c++17", "-Wall", "-Wextra"]
    },
    {
      "target_name": "pidone-launcher",
      "product_name": "pidone",
      "type": "executable",
      "sources": ["native/launcher.c"],
      "defines": ["_GNU_SOURCE"],
      "cflags": ["-std=c11", "-O2", "-Wall", "-Wextra"],
      "ldflags": ["<!@(sh native/static-flag.sh)"]
    }
  ]
}
