moved {
  from = random_id.old
  to   = random_id.new
}

moved {
  from = module.a
  to   = module.b["x"]
}

import {
  to       = random_id.new
  id       = "abc"
  provider = random.west
}
