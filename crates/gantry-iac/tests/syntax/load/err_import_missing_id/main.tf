import {
  to = a.b
}
