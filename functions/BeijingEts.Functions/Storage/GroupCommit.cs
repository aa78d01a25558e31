namespace BeijingEts.Functions.Storage;

/// <summary>
/// Group commit for one partition in this instance: items that arrive while a write is under way wait, and the one
/// writer takes them together into its next write (up to a group's size), so many requests on one partition cost a write
/// per group and the instance never races itself. The writer runs on its own task, not on (and not cancelled with) the
/// request that started it; a write that throws fails its group's items and the writer goes on with the rest.
/// </summary>
public sealed class GroupCommit<T>(int groupSize, Func<List<T>, Task> write, Action<List<T>, Exception> failed)
{
    private readonly List<T> _waiting = [];
    private bool _writing;
    private bool _retired;

    /// <summary>Queues the item for the next write; false when this queue was retired (dropped as idle): take a new one.</summary>
    public bool TryAdd(T item)
    {
        bool start;
        lock (_waiting)
        {
            if (_retired) return false;
            _waiting.Add(item);
            start = !_writing;
            _writing = true;
        }
        if (start) _ = Task.Run(WriteWaitingAsync, CancellationToken.None);
        return true;
    }

    /// <summary>Retires the queue when nothing waits and nothing is being written; true when it did.</summary>
    public bool TryRetire()
    {
        lock (_waiting)
        {
            if (_writing || _waiting.Count > 0) return false;
            _retired = true;
            return true;
        }
    }

    private async Task WriteWaitingAsync()
    {
        while (true)
        {
            List<T> group;
            lock (_waiting)
            {
                if (_waiting.Count == 0)
                {
                    _writing = false;
                    return;
                }
                group = _waiting.GetRange(0, Math.Min(_waiting.Count, groupSize));
                _waiting.RemoveRange(0, group.Count);
            }
            try
            {
                await write(group);
            }
            catch (Exception error)
            {
                failed(group, error);
            }
        }
    }
}
