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

# Added in the second round (issue 25's measurement). What each needs
# beyond Debian bookworm's base: apt-get install rsync age shfmt imagemagick
# gnupg redis-tools; a venv at /opt/corpus-venv with `pip install openpyxl
# tinydb sqlite-utils`; `npm install --prefix /opt/corpus-npm prettier`;
# OpenJDK 17 (javac); Go programs from Debian (age, shfmt).
VENV=/opt/corpus-venv/bin
NPM=/opt/corpus-npm/node_modules/.bin

# coreutils
entry cp "$DATA" 'cmp -s copy.txt expected.txt' cp data.txt copy.txt
entry dd "$DATA" 'cmp -s copy.txt expected.txt' dd if=data.txt of=copy.txt bs=4096 status=none
entry split "$DATA" 'cat part.* | cmp -s - expected.txt' split -b 16384 data.txt part.
entry install "$DATA" 'cmp -s dest.txt expected.txt' install -m 644 data.txt dest.txt
entry tee "$DATA" 'cmp -s out.txt expected.txt' sh -c 'tee out.txt < data.txt > /dev/null'
# other C tools
entry curl-file "$DATA" 'cmp -s out.txt expected.txt' sh -c 'curl -s -o out.txt "file://$PWD/data.txt"'
entry xxd-r "$DATA && xxd data.txt > data.hex && rm data.txt" 'cmp -s out.txt expected.txt' xxd -r data.hex out.txt
# gpg starts a gpg-agent daemon that outlives it. explore kills what a run
# leaves running half a second after the program ended, so gpg needs no
# help; one agent started beforehand (in a home outside the work
# directory) serves every run and saves that half second. Stop it after:
# gpgconf --homedir /tmp/explore-corpus-gnupg --kill gpg-agent
GPG="gpg --homedir /tmp/explore-corpus-gnupg --batch -q --passphrase secret --pinentry-mode loopback"
entry gpg-symmetric "$DATA && { gpgconf --homedir /tmp/explore-corpus-gnupg --kill gpg-agent 2>/dev/null; rm -rf /tmp/explore-corpus-gnupg; } && mkdir -m 700 /tmp/explore-corpus-gnupg && gpg-connect-agent --homedir /tmp/explore-corpus-gnupg /bye" "$GPG -d data.gpg 2>/dev/null | cmp -s - expected.txt" $GPG --no-symkey-cache --symmetric -o data.gpg data.txt
entry rsync "mkdir src && $DATA && mv data.txt src/ && seq 1 300 > src/small.txt && cp -r src expected" 'diff -r dst expected' rsync -a src/ dst/
entry mawk "$DATA && awk '{ print \$4, \$1 }' data.txt > expected.out" 'cmp -s out.txt expected.out' mawk '{ print $4, $1 > "out.txt" }' data.txt
entry iconv "$DATA" 'iconv -f UTF-16 -t UTF-8 out.txt | cmp -s - expected.txt' iconv -f UTF-8 -t UTF-16 -o out.txt data.txt
entry convert "/usr/bin/convert -size 96x96 gradient:red-blue in.png && /usr/bin/convert in.png expected.bmp" "cmp -s out.bmp expected.bmp" /usr/bin/convert in.png out.bmp
entry bash-redirect '' 'seq 1 500 | cmp -s - out.txt' bash -c 'for i in {1..500}; do echo $i; done > out.txt'
entry tar-x "$DATA && tar -cf in.tar data.txt && rm data.txt" 'cmp -s data.txt expected.txt' tar -xf in.tar
entry git-gc "git init -q . && $DATA && git add data.txt && git -c user.name=a -c user.email=a@b commit -qm one && echo more >> data.txt && git -c user.name=a -c user.email=a@b commit -qam two" 'git fsck --no-progress 2>/dev/null && git cat-file -e HEAD~1:data.txt' git gc -q
entry sqlite3-vacuum-into 'sqlite3 test.db "CREATE TABLE t(x TEXT); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i<500) INSERT INTO t SELECT printf(\"row %d\", i) FROM n;"' 'sqlite3 copy.db "PRAGMA integrity_check; SELECT count(*) FROM t" | tr "\n" " " | grep -qx "ok 500 "' sqlite3 test.db "VACUUM INTO 'copy.db'"
entry sqlite3-backup 'sqlite3 test.db "CREATE TABLE t(x TEXT); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i<500) INSERT INTO t SELECT printf(\"row %d\", i) FROM n;"' 'sqlite3 backup.db "PRAGMA integrity_check; SELECT count(*) FROM t" | tr "\n" " " | grep -qx "ok 500 "' sqlite3 test.db '.backup backup.db'
# Python's standard library
entry python-tarfile "$DATA" 'tar -xzOf out.tar.gz data.txt | cmp -s - expected.txt' python3 -c "import tarfile
with tarfile.open('out.tar.gz', 'w:gz') as t:
    t.add('data.txt')"
entry python-sqlite3 '' 'sqlite3 out.db "PRAGMA integrity_check; SELECT count(*) FROM t" | tr "\n" " " | grep -qx "ok 300 "' python3 -c "import sqlite3
db = sqlite3.connect('out.db')
db.execute('CREATE TABLE t(x)')
db.executemany('INSERT INTO t VALUES(?)', [('row %d' % i,) for i in range(300)])
db.commit()
db.close()"
# PyPI packages in a venv
entry pypi-openpyxl '' "$VENV/python -c 'import openpyxl; ws = openpyxl.load_workbook(\"out.xlsx\").active; assert ws.max_row == 200 and ws[\"B200\"].value == \"row 199\"'" $VENV/python -c "import openpyxl
wb = openpyxl.Workbook()
ws = wb.active
for i in range(200):
    ws.append([i, 'row %d' % i])
wb.save('out.xlsx')"
entry pypi-tinydb '' "$VENV/python -c 'import tinydb; assert len(tinydb.TinyDB(\"db.json\")) == 100'" $VENV/python -c "from tinydb import TinyDB
db = TinyDB('db.json')
db.insert_multiple([{'n': i} for i in range(100)])
db.close()"
entry pypi-sqlite-utils '(printf "["; seq -s, -f "{\"n\": %g}" 1 300; printf "]") > rows.json' 'sqlite3 out.db "PRAGMA integrity_check; SELECT count(*) FROM rows" | tr "\n" " " | grep -qx "ok 300 "' $VENV/sqlite-utils insert out.db rows rows.json
# Node
entry node-fs "$DATA" 'cmp -s copy.txt expected.txt' node -e "const fs = require('fs'); fs.writeFileSync('copy.txt', fs.readFileSync('data.txt'))"
entry node-stream "$DATA" 'cmp -s copy.txt expected.txt' node -e "const fs = require('fs'); fs.createReadStream('data.txt').pipe(fs.createWriteStream('copy.txt'))"
entry npm-prettier "printf 'const a = {b:1,\\n  c:[1,2,3]}\\nfunction f( x ){return x*2}\\n' > code.js && cp code.js expected.js && $NPM/prettier --write expected.js > /dev/null" 'cmp -s code.js expected.js' $NPM/prettier --write code.js
# Java
entry java-javac 'printf "public class Hello {\n  public static void main(String[] a) { System.out.println(\"hi\"); }\n}\n" > Hello.java' 'java -cp . Hello | grep -qx hi' javac Hello.java
# Go programs from Debian
entry go-age "$DATA && age-keygen -o key.txt 2>/dev/null" 'age -d -i key.txt data.age | cmp -s - expected.txt' age -e -i key.txt -o data.age data.txt
entry go-shfmt 'printf "if [ -f x ]; then\necho  yes\nfi\n" > s.sh && printf "if [ -f x ]; then\n\techo yes\nfi\n" > expected.sh' 'cmp -s s.sh expected.sh' shfmt -w s.sh
entry go-kubectl-config '' 'test "$(kubectl config --kubeconfig kc view -o jsonpath="{.clusters[0].cluster.server}")" = https://example.test' kubectl config --kubeconfig kc set-cluster corpus --server=https://example.test

# Added in the third round: programs not tried before, for precision on
# programs the fixes above were not made for.
entry cc-c 'printf "int twice(int x) { return 2 * x; }\nint main(void) { return twice(0); }\n" > hello.c' 'nm hello.o | grep -q " T main"' cc -c hello.c -o hello.o
entry ar "printf 'int a(void){return 1;}\n' > a.c && printf 'int b(void){return 2;}\n' > b.c && cc -c a.c b.c" 'ar t lib.a | tr "\n" " " | grep -qx "a.o b.o "' ar rcs lib.a a.o b.o
entry ssh-keygen '' 'ssh-keygen -l -f key > /dev/null && test "$(ssh-keygen -y -f key | cut -d" " -f1,2)" = "$(cut -d" " -f1,2 key.pub)"' ssh-keygen -q -t ed25519 -N '' -C corpus -f key
entry dpkg-deb 'mkdir -p pkg/DEBIAN pkg/usr/share/corpus && printf "Package: corpus\nVersion: 1.0\nArchitecture: all\nMaintainer: a <a@b>\nDescription: corpus\n" > pkg/DEBIAN/control && seq 1 2000 > pkg/usr/share/corpus/data.txt' 'dpkg-deb -I out.deb > /dev/null && dpkg-deb --fsys-tarfile out.deb | tar -xOf - ./usr/share/corpus/data.txt | cmp -s - pkg/usr/share/corpus/data.txt' dpkg-deb --build -Zgzip pkg out.deb
entry uniq "$DATA" 'cmp -s out.txt expected.txt' uniq data.txt out.txt
entry ed "$DATA && sed 1d data.txt > edited.txt" 'cmp -s data.txt edited.txt' sh -c 'printf "1d\nw\nq\n" | ed -s data.txt'
entry vim-ex "$DATA && sed s/line/LINE/ data.txt > edited.txt" 'cmp -s data.txt edited.txt' vim -u NONE -i NONE -es -c '%s/line/LINE/' -c wq data.txt
entry msgfmt 'printf "msgid \"\"\nmsgstr \"Content-Type: text/plain; charset=UTF-8\\\\n\"\n\nmsgid \"hello\"\nmsgstr \"bonjour\"\n" > fr.po' 'msgunfmt fr.mo | grep -qx "msgstr \"bonjour\""' msgfmt -o fr.mo fr.po
entry perl-storable '' 'perl -MStorable=retrieve -e "exit(@{retrieve(q(out.st))} == 500 ? 0 : 1)"' perl -MStorable=nstore -e 'nstore [1..500], "out.st" or die "nstore: $!"'
entry openssl-genpkey '' 'openssl pkey -in key.pem -noout' openssl genpkey -algorithm ed25519 -out key.pem
entry sqlite3-wal 'sqlite3 test.db "PRAGMA journal_mode=WAL; CREATE TABLE t(x)" > /dev/null' 'sqlite3 test.db "PRAGMA integrity_check; SELECT count(*) FROM t" | tr "\n" " " | grep -qx "ok 2 "' sqlite3 test.db "INSERT INTO t VALUES(1); INSERT INTO t VALUES(2);"
entry python-py-compile 'printf "print(\"compiled\")\n" > mod.py' 'python3 __pycache__/mod.*.pyc | grep -qx compiled' python3 -m py_compile mod.py
entry python-pickle '' 'python3 -c "import pickle; assert len(pickle.load(open(\"out.pkl\", \"rb\"))) == 500"' python3 -c "import pickle
with open('out.pkl', 'wb') as f:
    pickle.dump(list(range(500)), f)"
