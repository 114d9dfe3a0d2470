target "a" {
  args = {"V" = "1"}
  secret = ["id=NPM_TOKEN,env=NPM_TOKEN"]
}
target "b" {
  args = {
    V = "1",
  }
  secret = ["id=GITHUB_TOKEN,env=GITHUB_TOKEN"]
}
