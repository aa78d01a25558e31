using Azure.Storage.Queues.Models;
using BeijingEts.Functions.Hosting.Invocation;

namespace BeijingEts.Functions.Hosting.Local;

/// <summary>
/// Feeds one queue function as the Functions host does: fetch up to batchSize messages, fetch again when the number
/// in flight drops to newBatchThreshold, back off to maxPollingInterval when the queue is empty, make a failed message
/// visible again after visibilityTimeout, and move it to &lt;queue&gt;-poison once it has failed maxDequeueCount times.
/// </summary>
public sealed class QueueListener(
    FunctionDescriptor function,
    QueueClient queue,
    QueueClient poisonQueue,
    QueueHostSettings settings,
    LocalInvoker invoker,
    ILogger logger,
    bool deliverTwice = false)
{
    /// <summary>How long a received message stays hidden while it runs; renewed at half-time for long functions.</summary>
    internal static TimeSpan Lease { get; set; } = TimeSpan.FromMinutes(1);

    private static readonly TimeSpan MinimumPollingInterval = TimeSpan.FromMilliseconds(100);

    public async Task RunAsync(CancellationToken stopping)
    {
        var inFlight = new List<Task>();
        var idleDelay = MinimumPollingInterval;
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                while (inFlight.Count > settings.NewBatchThreshold)
                {
                    await Task.WhenAny(inFlight);
                    inFlight.RemoveAll(t => t.IsCompleted);
                }
                QueueMessage[] batch = await queue.ReceiveMessagesAsync(settings.BatchSize, Lease, stopping);
                if (batch.Length == 0)
                {
                    // Queue polling runs on wall-clock time: only timers follow the injected clock.
                    await Task.Delay(idleDelay, stopping);
                    idleDelay = TimeSpan.FromTicks(Math.Min(idleDelay.Ticks * 2, settings.MaxPollingInterval.Ticks));
                    continue;
                }
                idleDelay = MinimumPollingInterval;
                inFlight.RemoveAll(t => t.IsCompleted);
                inFlight.AddRange(batch.Select(ProcessAsync));
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                break;
            }
            catch (Exception error)
            {
                logger.LogWarning(error, "Polling {Queue} for {FunctionName} failed; retrying", queue.Name, function.Name);
                await Task.Delay(settings.MaxPollingInterval, stopping).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
        // Let running invocations finish; anything cut off reappears when its lease ends.
        await Task.WhenAll(inFlight).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    private async Task ProcessAsync(QueueMessage message)
    {
        try
        {
            if (message.DequeueCount > settings.MaxDequeueCount)
            {
                // Delivered more often than allowed without a recorded failure (the process died mid-run).
                await MoveToPoisonAsync(message, message.PopReceipt);
                return;
            }
            var lease = new LeaseRenewal(queue, message);
            bool succeeded;
            try
            {
                // Not cancelled by shutdown: a running invocation finishes (within functionTimeout) and is settled.
                succeeded = await InvokeAsync(message);
                // Fault injection (Ets:FaultInjection:DeliverTwice): queues deliver at least once, so every function
                // must take the same message twice; tests turn this on to prove it.
                if (succeeded && deliverTwice) succeeded = await InvokeAsync(message);
            }
            finally
            {
                await lease.StopAsync();
            }
            if (succeeded)
            {
                await queue.DeleteMessageAsync(message.MessageId, lease.PopReceipt, CancellationToken.None);
            }
            else if (message.DequeueCount >= settings.MaxDequeueCount)
            {
                await MoveToPoisonAsync(message, lease.PopReceipt);
            }
            else
            {
                await queue.UpdateMessageAsync(message.MessageId, lease.PopReceipt, visibilityTimeout: settings.VisibilityTimeout, cancellationToken: CancellationToken.None);
            }
        }
        catch (RequestFailedException error) when (error.Status == 404 || error.ErrorCode == "PopReceiptMismatch")
        {
            // The lease ran out (or a renewal the server applied was retried by the client, so its receipt is lost)
            // and the message went back to the queue; it will be delivered again, and every function takes a repeat.
            logger.LogWarning("Message {MessageId} on {Queue} lost its lease before it could be settled", message.MessageId, queue.Name);
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            logger.LogError(error, "Settling message {MessageId} on {Queue} failed", message.MessageId, queue.Name);
        }
    }

    private async Task<bool> InvokeAsync(QueueMessage message)
    {
        var request = new InvocationRequest(
            new Dictionary<string, JsonElement> { [BindingNames.QueueMessage] = JsonSerializer.SerializeToElement(message.Body.ToString()) },
            LocalInvoker.Json(new
            {
                Id = message.MessageId,
                message.DequeueCount,
                InsertionTime = message.InsertedOn,
                ExpirationTime = message.ExpiresOn,
                NextVisibleTime = message.NextVisibleOn,
                sys = new { MethodName = function.Name, UtcNow = DateTimeOffset.UtcNow, RandGuid = Guid.NewGuid() },
            }));
        try
        {
            var (succeeded, _) = await invoker.InvokeAsync(function.Name, request, Guid.NewGuid().ToString(), CancellationToken.None);
            return succeeded;
        }
        catch (Exception error) when (error is HttpRequestException or IOException)
        {
            logger.LogWarning("Invoking {FunctionName} failed at the transport ({Error}); the message will be delivered again", function.Name, error.Message);
            return false;
        }
    }

    private async Task MoveToPoisonAsync(QueueMessage message, string popReceipt)
    {
        await poisonQueue.SendMessageAsync(message.Body, cancellationToken: CancellationToken.None);
        await queue.DeleteMessageAsync(message.MessageId, popReceipt, CancellationToken.None);
        logger.LogWarning("Message {MessageId} failed {DequeueCount} times and was moved to {PoisonQueue}", message.MessageId, message.DequeueCount, poisonQueue.Name);
    }

    /// <summary>Keeps a running message hidden; the latest pop receipt is what settles it.</summary>
    private sealed class LeaseRenewal
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;

        public LeaseRenewal(QueueClient queue, QueueMessage message)
        {
            PopReceipt = message.PopReceipt;
            _loop = RenewAsync(queue, message.MessageId);
        }

        public string PopReceipt { get; private set; }

        public async Task StopAsync()
        {
            await _stop.CancelAsync();
            await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            _stop.Dispose();
        }

        private async Task RenewAsync(QueueClient queue, string messageId)
        {
            while (true)
            {
                await Task.Delay(Lease / 2, _stop.Token);
                // Not cancelled mid-flight: a renewal the server applied must be seen, or its receipt is lost.
                var receipt = await queue.UpdateMessageAsync(messageId, PopReceipt, visibilityTimeout: Lease, cancellationToken: CancellationToken.None);
                PopReceipt = receipt.Value.PopReceipt;
            }
        }
    }
}
