//! `Database::update` against a local HTTP server (axum on 127.0.0.1)
//! serving OSV-style `{ecosystem}/all.zip` exports: the real ones in
//! ../shared/data/osv when present, else a zip built from the fixtures.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path as UrlPath, State};
use axum::http::StatusCode;
use axum::routing::get;
use gantry_scan::deps::{Database, DbError};
use gantry_scan::{Ecosystem, Location, Package};

type Exports = Arc<HashMap<String, Vec<u8>>>;

async fn serve(exports: Exports) -> (String, tokio::task::JoinHandle<()>) {
    async fn all_zip(
        State(ex): State<Exports>,
        UrlPath(eco): UrlPath<String>,
    ) -> Result<Vec<u8>, StatusCode> {
        ex.get(&eco).cloned().ok_or(StatusCode::NOT_FOUND)
    }
    let app = Router::new()
        .route("/{eco}/all.zip", get(all_zip))
        .with_state(exports);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (format!("http://{addr}"), handle)
}

fn fixture_zip() -> Vec<u8> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/deps/osv/valid");
    let mut buf = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut buf);
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for f in files {
        zip.start_file(f.file_name().unwrap().to_str().unwrap(), opts)
            .unwrap();
        zip.write_all(&std::fs::read(&f).unwrap()).unwrap();
    }
    zip.finish().unwrap();
    buf.into_inner()
}

#[tokio::test]
async fn update_downloads_and_imports_each_ecosystem() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/osv");
    let mut exports = HashMap::new();
    let real = data.is_dir();
    if real {
        for eco in ["crates.io", "PyPI", "Go"] {
            exports.insert(
                eco.to_string(),
                std::fs::read(data.join(format!("{eco}.zip"))).unwrap(),
            );
        }
    } else {
        println!(
            "notice: {} is absent; serving the fixture records instead",
            data.display()
        );
        exports.insert("npm".to_string(), fixture_zip());
    }
    let (base, server) = serve(Arc::new(exports)).await;
    let tmp = tempfile::tempdir().unwrap();
    let ecosystems: Vec<Ecosystem> = if real {
        vec![Ecosystem::CratesIo, Ecosystem::PyPI, Ecosystem::Go]
    } else {
        vec![Ecosystem::Npm]
    };
    let last = std::sync::Mutex::new((0, 0));
    let progress = |d: usize, t: usize| *last.lock().unwrap() = (d, t);
    let report = Database::update(
        tmp.path(),
        &format!("{base}/"),
        &ecosystems,
        Some(&progress),
    )
    .await
    .unwrap();
    let (done, total) = *last.lock().unwrap();
    assert_eq!(done, total);
    assert!(report.invalid.is_empty());
    let status = Database::status(tmp.path()).unwrap();
    let db = Database::open(tmp.path()).unwrap();
    if real {
        assert_eq!(total, 1206 + 2661 + 4291);
        assert_eq!(status.records, 1206 + 2661 + 4291);
        let smallvec = Package {
            ecosystem: Ecosystem::CratesIo,
            name: "smallvec".into(),
            version: "0.6.9".into(),
            location: Location::new("Cargo.lock", 1),
        };
        let ids: Vec<String> = db
            .scan(&[smallvec])
            .unwrap()
            .into_iter()
            .map(|f| f.rule_id)
            .collect();
        assert!(ids.contains(&"RUSTSEC-2019-0009".to_string()), "{ids:?}");
    } else {
        assert_eq!(status.records, 4);
    }
    // No download leftovers beside the database.
    assert!(std::fs::read_dir(tmp.path()).unwrap().all(|e| {
        !e.unwrap()
            .file_name()
            .to_string_lossy()
            .starts_with(".download")
    }));

    // An ecosystem the server does not have is an error naming the URL,
    // and leaves the existing database as it was.
    let err = Database::update(tmp.path(), &base, &[Ecosystem::RubyGems], None)
        .await
        .unwrap_err();
    assert!(matches!(err, DbError::Download { .. }));
    assert!(
        err.to_string().contains("/RubyGems/all.zip") && err.to_string().contains("404"),
        "{err}"
    );
    assert_eq!(
        Database::status(tmp.path()).unwrap().records,
        status.records
    );
    server.abort();
}

#[tokio::test]
async fn unreachable_server_is_a_download_error() {
    // Bind then drop a listener: the port is closed.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let tmp = tempfile::tempdir().unwrap();
    let err = Database::update(
        tmp.path(),
        &format!("http://127.0.0.1:{port}"),
        &[Ecosystem::Go],
        None,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, DbError::Download { .. }), "{err}");
    assert!(Database::open(tmp.path()).is_err());
}
