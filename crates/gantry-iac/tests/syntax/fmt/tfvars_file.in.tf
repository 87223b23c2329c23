name="x"
count=3
tags={env="prod"}
