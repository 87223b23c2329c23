use std::sync::Arc;

use futures::Stream;
use gantry_core::Event;

use crate::{EventQuery, Order, Result, Store};

struct State {
    store: Arc<dyn Store>,
    query: EventQuery,
    watch: tokio::sync::watch::Receiver<i64>,
    buffered: std::vec::IntoIter<Event>,
    failed: bool,
}

/// Every event matching `query` after `query.after`, then each new one as it
/// commits, until the store closes. Reads in pages and sleeps on
/// [`crate::EventLog::watch_seq`] when caught up, so a slow consumer never
/// misses an event and an idle one costs nothing. After an error the stream
/// yields it and ends.
pub fn follow(store: Arc<dyn Store>, query: EventQuery) -> impl Stream<Item = Result<Event>> {
    let state = State {
        watch: store.watch_seq(),
        store,
        query: EventQuery {
            order: Order::Asc,
            before: None,
            ..query
        },
        buffered: Vec::new().into_iter(),
        failed: false,
    };
    futures::stream::unfold(state, |mut st| async move {
        if st.failed {
            return None;
        }
        loop {
            if let Some(e) = st.buffered.next() {
                st.query.after = Some(e.seq);
                return Some((Ok(e), st));
            }
            // Mark the current value seen before reading, so a commit that
            // lands between the read and the wait still wakes us.
            st.watch.borrow_and_update();
            match st.store.list(&st.query).await {
                Ok(page) if !page.is_empty() => st.buffered = page.into_iter(),
                Ok(_) => {
                    if st.watch.changed().await.is_err() {
                        return None;
                    }
                }
                Err(e) => {
                    st.failed = true;
                    return Some((Err(e), st));
                }
            }
        }
    })
}
