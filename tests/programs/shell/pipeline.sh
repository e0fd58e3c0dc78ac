# A pipeline of three processes, run as: bash -c "$(cat pipeline.sh)"
seq 1 1000 | sort -r | head -3
