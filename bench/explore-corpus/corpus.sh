# The explore corpus: real programs nobody here wrote, each as
#   entry NAME 'SETUP' 'CHECK' COMMAND...
# SETUP runs with sh in an empty work directory before the campaign (it
# makes the program's input, and what the check compares with); CHECK is
# the campaign's --check ('' for none); COMMAND is what is explored, in a
# fresh copy of the work directory. Sourced by run.sh.

# A text file of 2,000 numbered lines, and its copy to compare with.
DATA='seq -f "line %g of the corpus data" 1 2000 > data.txt && cp data.txt expected.txt'

entry gzip "$DATA" 'gzip -dc data.txt.gz | cmp -s - expected.txt' gzip -k data.txt
entry bzip2 "$DATA" 'bzip2 -dc data.txt.bz2 | cmp -s - expected.txt' bzip2 -k data.txt
entry xz "$DATA" 'xz -dc data.txt.xz | cmp -s - expected.txt' xz -k data.txt
entry zstd "$DATA" 'zstd -qdc data.txt.zst | cmp -s - expected.txt' zstd -q data.txt -o data.txt.zst
entry lz4 "$DATA" 'lz4 -qdc data.txt.lz4 | cmp -s - expected.txt' lz4 -q data.txt data.txt.lz4
entry sed-i "$DATA && sed s/line/LINE/ data.txt > edited.txt" 'cmp -s data.txt edited.txt' sed -i s/line/LINE/ data.txt
entry perl-pi "$DATA && sed s/line/LINE/ data.txt > edited.txt" 'cmp -s data.txt edited.txt' perl -pi -e s/line/LINE/ data.txt
entry patch "$DATA && sed 's/^line 1000 /LINE 1000 /' data.txt > edited.txt && { diff -u data.txt edited.txt > fix.patch || true; }" 'cmp -s data.txt edited.txt' patch -s data.txt fix.patch
entry sort "$DATA && sort data.txt > sorted.txt" 'cmp -s out.txt sorted.txt' sort -o out.txt data.txt
entry tar "$DATA" 'tar -xOf out.tar data.txt | cmp -s - expected.txt' tar -cf out.tar data.txt
entry zip "$DATA" 'unzip -p out.zip data.txt | cmp -s - expected.txt' zip -q out.zip data.txt
entry unzip "$DATA && zip -q in.zip data.txt && rm data.txt" 'cmp -s out/data.txt expected.txt' unzip -q in.zip -d out
entry openssl "$DATA" 'openssl enc -d -aes-256-cbc -pbkdf2 -k secret -in data.enc | cmp -s - expected.txt' openssl enc -aes-256-cbc -pbkdf2 -k secret -in data.txt -out data.enc
entry sqlite3-insert 'sqlite3 test.db "CREATE TABLE t(x)"' 'sqlite3 test.db "PRAGMA integrity_check" | grep -qx ok' sqlite3 test.db "INSERT INTO t VALUES(1); INSERT INTO t VALUES(2); CREATE INDEX i ON t(x);"
entry sqlite3-dump 'sqlite3 test.db "CREATE TABLE t(x TEXT); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i<500) INSERT INTO t SELECT printf(\"row %d\", i) FROM n;" && sqlite3 test.db .dump > expected.sql' 'cmp -s dump.sql expected.sql' sqlite3 test.db '.output dump.sql' .dump
entry git-commit "git init -q . && $DATA && git add data.txt && git -c user.name=a -c user.email=a@b commit -qm one && echo more >> data.txt" 'git fsck --no-progress 2>/dev/null && git log -1 --format=%s | grep -qx two' git -c user.name=a -c user.email=a@b commit -qam two
entry git-repack "git init -q . && $DATA && git add data.txt && git -c user.name=a -c user.email=a@b commit -qm one" 'git fsck --no-progress 2>/dev/null && git cat-file -e HEAD:data.txt' git repack -adq
entry python-gdbm '' '/usr/bin/python3 -c "import dbm.gnu as d; db = d.open(\"cache\", \"r\"); assert len(db.keys()) == 50"' /usr/bin/python3 -c "import dbm.gnu as g
db = g.open('cache', 'c')
for i in range(50):
    db[b'key%d' % i] = b'value' * 40
db.close()"
entry python-json '' 'python3 -c "import json; assert len(json.load(open(\"out.json\"))) == 500"' python3 -c "import json
with open('out.json', 'w') as f:
    json.dump([{'n': i, 'text': 'x' * 40} for i in range(500)], f)"
entry python-zipfile "$DATA" 'unzip -p out.zip data.txt | cmp -s - expected.txt' python3 -c "import zipfile
with zipfile.ZipFile('out.zip', 'w') as z:
    z.write('data.txt')"
entry python-shutil "$DATA" 'cmp -s copy.txt expected.txt' python3 -c "import shutil; shutil.copyfile('data.txt', 'copy.txt')"
entry java-jar "$DATA" 'unzip -p out.jar data.txt | cmp -s - expected.txt' jar cf out.jar data.txt
entry go-gofmt 'printf "package main\nfunc main(){\nprintln(1)\n}\n" > main.go && printf "package main\n\nfunc main() {\n\tprintln(1)\n}\n" > expected.go' 'cmp -s main.go expected.go' gofmt -w main.go
entry jq '(printf "["; seq -s, 1 500; printf "]") > in.json && jq -c . in.json > expected.json' 'cmp -s out.json expected.json' sh -c 'jq -c . in.json > out.json'
entry npm-pack 'printf "{\"name\":\"corpus-pkg\",\"version\":\"1.0.0\"}\n" > package.json && echo "module.exports = 1" > index.js' 'tar -tzf corpus-pkg-1.0.0.tgz | grep -q package/index.js' npm pack --silent --offline
