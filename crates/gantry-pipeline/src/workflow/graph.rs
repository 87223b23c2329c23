//! Checks across jobs: `needs` naming a missing job, and dependency cycles.

use std::collections::BTreeSet;

use gantry_config::Diagnostic;
use gantry_config::suggest::did_you_mean;

use super::model::Workflow;

pub(crate) fn check(wf: &Workflow, diags: &mut Vec<Diagnostic>) {
    let ids: Vec<&str> = wf.jobs.iter().map(|(id, _)| id.as_str()).collect();
    let index = |name: &str| ids.iter().position(|id| *id == name);
    // edges[a] lists (b, entry) for every `needs: b` of job a.
    let mut edges: Vec<Vec<(usize, usize)>> = vec![Vec::new(); ids.len()];
    for (a, (id, job)) in wf.jobs.iter().enumerate() {
        for (k, need) in job.needs.iter().enumerate() {
            match index(&need.value) {
                Some(b) => edges[a].push((b, k)),
                None => {
                    let others: Vec<&str> = ids.iter().copied().filter(|o| o != id).collect();
                    let help = match did_you_mean(&need.value, &others) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None if others.is_empty() => "this is the only job".to_string(),
                        None => format!(
                            "the jobs are {}",
                            gantry_config::check::quoted_list(&others)
                        ),
                    };
                    diags.push(
                        Diagnostic::error(
                            &wf.file,
                            format!(
                                "job `{id}` needs `{}`, which is not a job in this workflow",
                                need.value
                            ),
                        )
                        .with_span(need.span)
                        .with_help(help),
                    );
                }
            }
        }
    }
    // Iterative depth-first search; a back edge closes a cycle.
    const NEW: u8 = 0;
    const OPEN: u8 = 1;
    const DONE: u8 = 2;
    let mut state = vec![NEW; ids.len()];
    let mut seen: Vec<BTreeSet<usize>> = Vec::new();
    for start in 0..ids.len() {
        if state[start] != NEW {
            continue;
        }
        state[start] = OPEN;
        let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
        while let Some(top) = stack.last_mut() {
            let (v, next) = *top;
            let Some(&(w, k)) = edges[v].get(next) else {
                state[v] = DONE;
                stack.pop();
                continue;
            };
            top.1 += 1;
            match state[w] {
                NEW => {
                    state[w] = OPEN;
                    stack.push((w, 0));
                }
                OPEN => {
                    let from = stack.iter().position(|(j, _)| *j == w).unwrap_or(0);
                    let members: Vec<usize> = stack[from..].iter().map(|(j, _)| *j).collect();
                    let set: BTreeSet<usize> = members.iter().copied().collect();
                    if seen.contains(&set) {
                        continue;
                    }
                    seen.push(set);
                    let mut path: Vec<&str> = members.iter().map(|j| ids[*j]).collect();
                    path.push(ids[w]);
                    let need = &wf.jobs[v].1.needs[k];
                    diags.push(
                        Diagnostic::error(
                            &wf.file,
                            format!("dependency cycle: {}", path.join(" -> ")),
                        )
                        .with_span(need.span)
                        .with_help("remove one of these `needs` entries"),
                    );
                }
                _ => {}
            }
        }
    }
}
