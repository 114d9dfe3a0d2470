# Build everything with `docker buildx bake`.
variable "NPM_TOKEN" {}

group "default" {
  targets = ["app", "tools", "inline"]
}

target "app" {
  context = "app"
  args = {
    NODE_ENV  = "production" // kept
  }
  secret = ["id=NPM_TOKEN,env=NPM_TOKEN", "id=UPSTREAM,env=GH_PAT"]
  tags = ["example/app"]
}

target "tools" {
  context = "app"
  secret = ["id=netrc,src=.netrc", "id=NPM_TOKEN,env=NPM_TOKEN"]
}

target "inline" {
  context = "app"
  args = { VERSION = "1" }
  secret = ["id=API_KEY,env=API_KEY"]
}
