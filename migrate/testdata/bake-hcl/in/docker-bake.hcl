# Build everything with `docker buildx bake`.
variable "NPM_TOKEN" {}

group "default" {
  targets = ["app", "tools", "inline"]
}

target "app" {
  context = "app"
  args = {
    NODE_ENV  = "production" // kept
    NPM_TOKEN = "${NPM_TOKEN}"
    UPSTREAM  = GH_PAT
  }
  tags = ["example/app"]
}

target "tools" {
  context = "app"
  args = {
    NPM_TOKEN = NPM_TOKEN
  }
  secret = ["id=netrc,src=.netrc"]
}

target "inline" {
  context = "app"
  args = { VERSION = "1", API_KEY = "not-a-real-key" }
}
