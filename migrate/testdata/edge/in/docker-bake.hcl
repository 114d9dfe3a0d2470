target "a" {
  args = {"NPM_TOKEN" = "${NPM_TOKEN}", "V" = "1"}
}
target "b" {
  args = {
    V = "1",
    "GITHUB_TOKEN": GITHUB_TOKEN,
  }
}
