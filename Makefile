# The two commands the README documents.
.PHONY: deploy test world clean-world

## deploy: full deploy of the single-server layout into local containers
deploy:
	bash tests/deploy-local.sh

## test: lint, sanity, unit tests and every molecule scenario
test:
	bash tests/run.sh

world:
	bash tests/world/up.sh

clean-world:
	bash tests/world/services.sh down
