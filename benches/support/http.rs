//! A load generator's HTTP/1.1 client: one keep-alive connection, requests written in one go,
//! answers read by `Content-Length`. It does what the benchmark needs and nothing else, so that
//! the client costs little of the two cores the service also runs on.

use std::io;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

pub struct HttpConnection {
    stream: TcpStream,
    buffer: Vec<u8>,
    request: Vec<u8>,
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_owned())
}

impl HttpConnection {
    pub async fn open(address: &str) -> io::Result<Self> {
        let stream = TcpStream::connect(address).await?;
        stream.set_nodelay(true)?;
        Ok(Self {
            stream,
            buffer: Vec::with_capacity(16 * 1024),
            request: Vec::with_capacity(4 * 1024),
        })
    }

    /// Sends one request and reads its answer: the status and the body.
    #[allow(dead_code)]
    pub async fn send(
        &mut self,
        method: &str,
        path: &str,
        authorization: &str,
        body: Option<&[u8]>,
    ) -> io::Result<(u16, Vec<u8>)> {
        self.request.clear();
        self.request
            .extend_from_slice(format!("{method} {path} HTTP/1.1\r\nhost: bench\r\n").as_bytes());
        // An empty one is a request without credentials (signing in).
        if !authorization.is_empty() {
            self.request
                .extend_from_slice(format!("authorization: {authorization}\r\n").as_bytes());
        }
        match body {
            Some(body) => {
                self.request.extend_from_slice(
                    format!(
                        "content-type: application/json\r\ncontent-length: {}\r\n\r\n",
                        body.len()
                    )
                    .as_bytes(),
                );
                self.request.extend_from_slice(body);
            }
            None => self.request.extend_from_slice(b"\r\n"),
        }
        self.exchange().await
    }

    /// A browser's request of a console page: its session cookie, and a form's body if any.
    #[allow(dead_code)]
    pub async fn browse(
        &mut self,
        path: &str,
        cookie: &str,
        form: Option<&[u8]>,
    ) -> io::Result<(u16, Vec<u8>)> {
        let method = if form.is_some() { "POST" } else { "GET" };
        self.request.clear();
        self.request.extend_from_slice(
            format!("{method} {path} HTTP/1.1\r\nhost: bench\r\ncookie: {cookie}\r\n").as_bytes(),
        );
        match form {
            Some(body) => {
                self.request.extend_from_slice(
                    format!(
                        "content-type: application/x-www-form-urlencoded\r\ncontent-length: {}\r\n\r\n",
                        body.len()
                    )
                    .as_bytes(),
                );
                self.request.extend_from_slice(body);
            }
            None => self.request.extend_from_slice(b"\r\n"),
        }
        self.exchange().await
    }

    /// Writes the request built and reads its answer.
    async fn exchange(&mut self) -> io::Result<(u16, Vec<u8>)> {
        self.stream.write_all(&self.request).await?;
        self.buffer.clear();
        let head_end = loop {
            if let Some(end) = self.buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                break end + 4;
            }
            self.fill().await?;
        };
        let head = std::str::from_utf8(&self.buffer[..head_end])
            .map_err(|_| invalid("a head that is not text"))?;
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| invalid("no status"))?;
        let length: usize = head
            .lines()
            .find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.eq_ignore_ascii_case("content-length")
                    .then(|| value.trim().parse().ok())?
            })
            .ok_or_else(|| invalid("no content-length"))?;
        while self.buffer.len() < head_end + length {
            self.fill().await?;
        }
        Ok((status, self.buffer[head_end..head_end + length].to_vec()))
    }

    async fn fill(&mut self) -> io::Result<()> {
        let mut chunk = [0u8; 16 * 1024];
        let read = self.stream.read(&mut chunk).await?;
        if read == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the service closed the connection",
            ));
        }
        self.buffer.extend_from_slice(&chunk[..read]);
        Ok(())
    }
}
