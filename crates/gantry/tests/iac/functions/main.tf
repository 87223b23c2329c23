locals {
  config = {
    name  = "api"
    ports = [80, 443]
    tags  = { team = "sre" }
  }
}

resource "local_file" "rendered" {
  filename = "${path.module}/rendered.txt"
  content = templatefile("${path.module}/tpl/app.tftpl", {
    name  = local.config.name
    ports = local.config.ports
  })
}

resource "terraform_data" "json" {
  input = jsonencode(local.config)
}

output "json" {
  value = jsonencode(local.config)
}

output "decoded" {
  value = jsondecode("{\"a\": [1, 2, {\"b\": null}]}")
}

output "subnets" {
  value = [for i in range(3) : cidrsubnet("10.0.0.0/16", 8, i)]
}

output "subnets2" {
  value = cidrsubnets("10.1.0.0/16", 4, 4, 8)
}

output "host" {
  value = cidrhost("192.168.1.0/24", 10)
}

output "files" {
  value = sort(fileset(path.module, "tpl/*.tftpl"))
}

output "yaml" {
  value = yamlencode({ b = [1, "two"], a = true })
}

output "strings" {
  value = [
    format("%-5s|%03d|%.2f|%q", "ab", 7, 3.14159, "q"),
    join(",", formatlist("<%s>", ["x", "y"])),
    replace("a-b-c", "-", "_"),
    replace("a1b22c", "/[0-9]+/", "#"),
    title("hello world"),
    trimspace("  pad  "),
    substr("terraform", 0, 5),
    regex("(\\d+)-(\\d+)", "10-20")[1],
  ]
}

output "collections" {
  value = {
    merged   = merge({ a = 1 }, { b = 2 }, { a = 3 })
    flat     = flatten([[1, 2], [3, [4]]])
    distinct = distinct(["a", "b", "a"])
    zip      = zipmap(["k1", "k2"], ["v1", "v2"])
    lookup   = lookup({ a = "x" }, "b", "fallback")
    slice    = slice(["a", "b", "c", "d"], 1, 3)
    setops   = sort(setsubtract(setunion(["a", "b"], ["c"]), ["b"]))
    coalesce = coalesce("", "first")
    one      = one(["only"])
    tryit    = try(local.config.missing, "default")
    canit    = can(local.config.ports[5])
  }
}

output "hashes" {
  value = [md5("abc"), sha1("abc"), sha256("abc"), base64encode("hi"), base64decode("aGk=")]
}

output "numbers" {
  value = [min(3, 1, 2), max(3, 1, 2), abs(-4), ceil(1.2), floor(1.8), 10 / 4, 7 % 3, parseint("ff", 16)]
}
