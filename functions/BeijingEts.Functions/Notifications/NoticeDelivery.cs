using System.Globalization;
using System.Text;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace BeijingEts.Functions.Notifications;

/// <summary>The email relay: locally smtp4dev (run.sh starts it), in Azure Communication Services' SMTP endpoint (infra/).</summary>
public sealed record SmtpSettings(string Host, int Port, SecureSocketOptions Security, string? UserName, string? Password, string FromAddress, string FromName);

/// <summary>
/// Ets:Notices: the relay (<c>Smtp:Host</c>, <c>Smtp:Port</c>, <c>Smtp:Security</c> None|StartTls|SslOnConnect|Auto,
/// <c>Smtp:UserName</c>, <c>Smtp:Password</c>, <c>Smtp:From</c>, <c>Smtp:FromName</c>; no host, no email: notices stay in
/// the inbox), the reminders' lead times in working days (<c>ReminderLeadWorkingDays</c>, "10,3,1") and the days after a
/// month's end its data is due (<c>MonthlyDataDueDays</c>).
/// </summary>
public sealed record NoticeSettings(SmtpSettings? Smtp, IReadOnlyList<int> ReminderLeadWorkingDays, int MonthlyDataDueDays = NoticeSettings.DefaultMonthlyDataDueDays)
{
    /// <summary>
    /// The Measures set no day for a month's data (Art. 21-22 only require it); this default follows the national
    /// market's practice of a month's data within 40 days of its end (环办气候函〔2022〕111号). A setting, <c>MonthlyDataDueDays</c>.
    /// </summary>
    public const int DefaultMonthlyDataDueDays = 40;

    /// <summary>Tries of an email before it is a dead letter (<c>MaxAttempts</c>).</summary>
    public int MaxAttempts { get; init; } = 8;

    /// <summary>
    /// Working days after a notice reaches the inbox by which it counts as received when it was neither emailed nor read
    /// (<c>DeemedReceiptWorkingDays</c>): the platform's rule, so that a legal window counted from receipt (Art. 15) always
    /// begins. Electronic service counts from arrival in the recipient's system; the inbox is that system.
    /// </summary>
    public int DeemedReceiptWorkingDays { get; init; } = 5;

    /// <summary>The first wait before an email is tried again (<c>RetryBaseSeconds</c>, 60); later waits are multiples of it.</summary>
    public TimeSpan RetryBase { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>A relay that throttles or is down for hours (a sending limit reached, a secret not yet created) is waited out, not hammered.</summary>
    private static readonly int[] Backoff = [1, 5, 15, 60, 180, 360, 720];

    /// <summary>How long after its <paramref name="attempts"/>th failed try a notice is tried again: a minute, growing to twelve hours.</summary>
    public TimeSpan RetryDelay(int attempts) => RetryBase * Backoff[Math.Clamp(attempts - 1, 0, Backoff.Length - 1)];

    /// <summary>The day a month's data is due: the set number of days after the month's last day.</summary>
    public DateOnly MonthlyDataDue(int year, int month) => new DateOnly(year, month, 1).AddMonths(1).AddDays(MonthlyDataDueDays - 1);

    public static NoticeSettings From(IConfiguration configuration)
    {
        var section = configuration.GetSection("Ets:Notices");
        var smtp = section.GetSection("Smtp");
        SmtpSettings? relay = null;
        if (smtp["Host"] is { Length: > 0 } host)
        {
            var port = int.TryParse(smtp["Port"], CultureInfo.InvariantCulture, out var p) && p is > 0 and < 65536
                ? p : throw new InvalidOperationException("Ets:Notices:Smtp:Port must be a port number when Ets:Notices:Smtp:Host is set.");
            var security = Enum.TryParse<SecureSocketOptions>(smtp["Security"] ?? "Auto", ignoreCase: true, out var s)
                ? s : throw new InvalidOperationException("Ets:Notices:Smtp:Security must be None, StartTls, SslOnConnect or Auto.");
            relay = new SmtpSettings(host, port, security, smtp["UserName"], smtp["Password"],
                smtp["From"] ?? "notices@ets.sthjj.beijing.gov.cn", smtp["FromName"] ?? "北京市碳排放权交易管理平台");
        }
        var leads = (section["ReminderLeadWorkingDays"] ?? "10,3,1").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(v => int.TryParse(v, CultureInfo.InvariantCulture, out var d) && d is > 0 and <= 60
                ? d : throw new InvalidOperationException($"Ets:Notices:ReminderLeadWorkingDays: '{v}' is not a number of working days from 1 to 60."))
            .Distinct().OrderDescending().ToList();
        var monthly = section["MonthlyDataDueDays"] is { } days
            ? int.TryParse(days, CultureInfo.InvariantCulture, out var d2) && d2 is > 0 and <= 120 ? d2 : throw new InvalidOperationException($"Ets:Notices:MonthlyDataDueDays: '{days}' is not a number of days from 1 to 120.")
            : DefaultMonthlyDataDueDays;
        return new NoticeSettings(relay, leads, monthly)
        {
            MaxAttempts = Bounded(section, "MaxAttempts", 8, 1, 20),
            DeemedReceiptWorkingDays = Bounded(section, "DeemedReceiptWorkingDays", 5, 1, 30),
            RetryBase = TimeSpan.FromSeconds(Bounded(section, "RetryBaseSeconds", 60, 1, 3600)),
        };
    }

    private static int Bounded(IConfigurationSection section, string name, int fallback, int min, int max)
    {
        if (section[name] is not { } text) return fallback;
        return int.TryParse(text, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max
            ? value : throw new InvalidOperationException($"Ets:Notices:{name}: '{text}' is not a whole number from {min} to {max}.");
    }
}

/// <summary>What the relay did with one email: accepted for some addresses, refused for others (a refused address is not tried again).</summary>
public sealed record MailOutcome(IReadOnlyList<string> Accepted, IReadOnlyList<string> Refused);

/// <summary>Sends notices as emails over one SMTP session; each is sent to each contact on its own, so one bad address does not hold up the others.</summary>
public interface INoticeMailer
{
    Task<IAsyncDisposable> OpenAsync(CancellationToken cancellationToken);

    /// <summary>Sends the notice to each contact on the open session; throws when the relay fails (not when it refuses an address).</summary>
    Task<MailOutcome> SendAsync(IAsyncDisposable session, Notice notice, IReadOnlyList<Contact> to, CancellationToken cancellationToken);
}

public sealed class SmtpNoticeMailer(NoticeSettings settings) : INoticeMailer
{
    private sealed class Session(SmtpClient client) : IAsyncDisposable
    {
        public SmtpClient Client { get; } = client;

        public async ValueTask DisposeAsync()
        {
            if (Client.IsConnected) await Client.DisconnectAsync(quit: true, CancellationToken.None).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            Client.Dispose();
        }
    }

    public async Task<IAsyncDisposable> OpenAsync(CancellationToken cancellationToken)
    {
        var relay = settings.Smtp ?? throw new InvalidOperationException("No email relay is configured (Ets:Notices:Smtp:Host).");
        var client = new SmtpClient { Timeout = 30_000 };
        try
        {
            await client.ConnectAsync(relay.Host, relay.Port, relay.Security, cancellationToken);
            if (relay.UserName is { Length: > 0 }) await client.AuthenticateAsync(relay.UserName, relay.Password ?? "", cancellationToken);
            return new Session(client);
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    public async Task<MailOutcome> SendAsync(IAsyncDisposable session, Notice notice, IReadOnlyList<Contact> to, CancellationToken cancellationToken)
    {
        var client = ((Session)session).Client;
        var (accepted, refused) = (new List<string>(), new List<string>());
        foreach (var contact in to)
        {
            try
            {
                await client.SendAsync(Compose(settings.Smtp!, notice, contact), cancellationToken);
                accepted.Add(contact.Email);
            }
            catch (SmtpCommandException refusal) when (refusal.ErrorCode == SmtpErrorCode.RecipientNotAccepted && (int)refusal.StatusCode >= 500)
            {
                refused.Add(contact.Email); // a permanent refusal of this address: the others still get it
            }
        }
        return new MailOutcome(accepted, refused);
    }

    /// <summary>
    /// Chinese subject and body, the English below. The Message-Id is fixed by the notice and address, so a message sent
    /// twice (the process stopped between sending and recording it) carries the same id to the recipient's mail system.
    /// </summary>
    public static MimeMessage Compose(SmtpSettings relay, Notice notice, Contact to)
    {
        var message = new MimeMessage { Subject = $"{notice.SubjectZh} | {notice.SubjectEn}" };
        message.From.Add(new MailboxAddress(relay.FromName, relay.FromAddress));
        message.To.Add(new MailboxAddress(to.Name, to.Email));
        var hash = Digest.Hex($"{notice.Party}/{notice.Id}/{to.Email.ToLowerInvariant()}", 32);
        message.MessageId = $"{hash}@{relay.FromAddress.Split('@')[^1]}";
        var body = new StringBuilder()
            .AppendLine(notice.BodyZh).AppendLine()
            .AppendLine("——").AppendLine()
            .AppendLine(notice.SubjectEn).AppendLine()
            .AppendLine(notice.BodyEn).AppendLine();
        if (notice.Link is not null) body.AppendLine($"{notice.Link}");
        body.AppendLine().AppendLine("本邮件由系统发送，请登录平台查看详情。This message was sent by the platform; sign in to see the details.");
        message.Body = new TextPart("plain") { Text = body.ToString() };
        return message;
    }
}

/// <summary>
/// The queue function: each message names one party's notices. Each notice still owed an email is claimed (under its
/// ETag, so two workers never both send it), sent to each of the party's contacts (and the notice's own extra recipients),
/// and recorded at once, before the next.
/// A relay that fails leaves the notice to be tried again later, backing off from a minute to hours
/// (<see cref="NoticeSettings.RetryDelays"/>), and after the last try it is a dead letter the regulator sees and can send
/// again. The queue's own retries (seconds apart) are only for this function failing.
/// </summary>
[QueueTrigger(StorageNames.Queues.NoticeDelivery)]
public sealed class DeliverNotices(NoticeStore notices, ContactStore contacts, NoticeOutbox outbox, INoticeMailer mailer, NoticeSettings settings, TimeProvider clock,
    ILogger<DeliverNotices> logger) : IQueueFunction
{
    public sealed record Message(string Party, IReadOnlyList<string> Ids);

    internal static readonly JsonSerializerOptions QueueJson = new(JsonSerializerDefaults.Web);

    /// <summary>How long a claim holds: longer than sending a party's hundred notices takes.</summary>
    private static readonly TimeSpan Claim = TimeSpan.FromMinutes(10);

    public async Task RunAsync(QueueTriggerMessage message, CancellationToken cancellationToken)
    {
        var (partyKey, ids) = message.Read<Message>();
        if (Party.Parse(partyKey) is not { } party) return; // not a message this app wrote
        var claimed = new List<(Notice Notice, ETag ETag)>();
        foreach (var id in ids.Distinct(StringComparer.Ordinal))
        {
            if (await ClaimAsync(party, id, cancellationToken) is { } mine) claimed.Add(mine);
        }
        if (claimed.Count == 0) return;

        var current = (await contacts.FindAsync(party, cancellationToken))?.Contacts ?? [];
        var addressed = claimed.Select(c => (c.Notice, c.ETag, To: c.Notice.Recipients(current))).ToList();
        foreach (var (notice, etag, _) in addressed.Where(a => a.To.Count == 0))
        {
            // Nobody to write to: the notice stays in the inbox, where the party reads it.
            await FinishAsync(notice, etag, n => n with { Delivery = "no-contacts", ClaimedUntil = null }, cancellationToken);
        }
        addressed.RemoveAll(a => a.To.Count == 0);
        if (addressed.Count == 0) return;
        IAsyncDisposable? session = null;
        try
        {
            session = await mailer.OpenAsync(cancellationToken);
            foreach (var (notice, etag, to) in addressed)
            {
                var outcome = await mailer.SendAsync(session, notice, to, cancellationToken);
                var now = clock.GetUtcNow();
                await FinishAsync(notice, etag, n => outcome.Accepted.Count > 0
                    ? n with { Delivery = "sent", DeliveredAt = now, Attempts = n.Attempts + 1, LastError = null, SentTo = outcome.Accepted, Refused = outcome.Refused, ClaimedUntil = null }
                    : n with { Delivery = "dead-lettered", Attempts = n.Attempts + 1, LastError = "The relay refused every address.", Refused = outcome.Refused, ClaimedUntil = null },
                    cancellationToken);
            }
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            logger.LogWarning(error, "Delivering notices to {Party} failed.", party.Key);
            // The notices not recorded yet: each tried again later, or a dead letter after the last try.
            foreach (var (notice, etag, _) in addressed) await FailAsync(party, notice, etag, Describe(error), cancellationToken);
        }
        finally
        {
            if (session is not null) await session.DisposeAsync();
        }
    }

    /// <summary>The notice, marked as being sent by this worker; null when it is not owed, or another worker holds it.</summary>
    private async Task<(Notice, ETag)?> ClaimAsync(Party party, string id, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        if (await notices.FindAsync(party, id, cancellationToken) is not var (notice, etag) || !notice.IsOwed) return null;
        if (notice.Delivery == "sending" && notice.ClaimedUntil > now) return null;
        var claimed = notice with { Delivery = "sending", ClaimedUntil = now + Claim };
        // Read or claimed meanwhile: a later message or the sweep finds it.
        return await notices.TryChangeAsync(claimed, etag, cancellationToken) is { } tag ? (claimed, tag) : null;
    }

    /// <summary>Records the outcome on a claimed notice (again on a concurrent reading), and takes it off the owed index.</summary>
    private async Task FinishAsync(Notice claimed, ETag etag, Func<Notice, Notice> outcome, CancellationToken cancellationToken)
    {
        var (notice, tag) = (claimed, etag);
        while (true)
        {
            var finished = outcome(notice);
            if (await notices.TryReplaceAsync(finished, tag, cancellationToken))
            {
                if (finished.Delivery != "retrying") await notices.ClearOwedAsync(finished, cancellationToken);
                if (finished.Delivery == "dead-lettered") await notices.AddDeadLetterAsync(finished, cancellationToken);
                return;
            }
            // Only a reading changes a claimed notice; anything else means the claim lapsed and another worker took it.
            if (await notices.FindAsync(Party.Parse(notice.Party)!, notice.Id, cancellationToken) is not var (again, againTag) || again.Delivery != "sending"
                || again.ClaimedUntil != claimed.ClaimedUntil) return;
            (notice, tag) = (again, againTag);
        }
    }

    private async Task FailAsync(Party party, Notice claimed, ETag etag, string error, CancellationToken cancellationToken)
    {
        if (await notices.FindAsync(party, claimed.Id, cancellationToken) is not var (current, tag) || current.Delivery != "sending" || current.ClaimedUntil != claimed.ClaimedUntil)
        {
            return; // recorded already (sent before the relay failed), or no longer this worker's
        }
        var attempts = current.Attempts + 1;
        var last = attempts >= settings.MaxAttempts;
        var delay = settings.RetryDelay(attempts);
        var next = clock.GetUtcNow() + delay;
        await FinishAsync(current, tag, n => n with
        {
            Delivery = last ? "dead-lettered" : "retrying", Attempts = attempts, LastError = error, ClaimedUntil = null, NextAttemptAt = last ? null : next,
        }, cancellationToken);
        if (last) return;
        await notices.MarkOwedAsync([(current.Party, current.Id)], next, cancellationToken);
        await outbox.EnqueueAsync([current], delay, cancellationToken);
    }

    /// <summary>What the regulator is shown of a failure: the relay's own words, never a stack.</summary>
    private static string Describe(Exception error) => error switch
    {
        SmtpCommandException smtp => $"The relay refused: {(int)smtp.StatusCode} {smtp.Message}",
        SmtpProtocolException protocol => $"The relay broke the protocol: {protocol.Message}",
        System.Net.Sockets.SocketException socket => $"The relay could not be reached: {socket.SocketErrorCode}",
        AuthenticationException => "The relay refused the credentials.",
        _ => $"{error.GetType().Name}: {error.Message}",
    };
}

/// <summary>
/// Every five minutes: a notice owed an email past its due time by five minutes lost its queue message (the process
/// stopped between writing it and queueing it, or the queue did not answer) or its worker stopped mid-send; it is queued
/// again, and its due time moved on so the next sweep leaves it to that message. Read from the owed index, one query.
/// Delivering twice is harmless: a claimed or sent notice is skipped.
/// </summary>
[TimerTrigger("0 */5 * * * *")]
public sealed class ResendOwedNotices(NoticeStore notices, NoticeOutbox outbox, NoticeSettings settings, TimeProvider clock) : ITimerFunction
{
    public static readonly TimeSpan Grace = TimeSpan.FromMinutes(5);

    public async Task RunAsync(TimerTriggerInfo timer, CancellationToken cancellationToken)
    {
        if (settings.Smtp is null) return;
        var now = clock.GetUtcNow();
        var overdue = await notices.OverdueAsync(now - Grace, cancellationToken);
        if (overdue.Count == 0) return;
        await notices.MarkOwedAsync(overdue, now, cancellationToken);
        await outbox.EnqueueAsync(overdue, TimeSpan.Zero, cancellationToken);
    }
}
