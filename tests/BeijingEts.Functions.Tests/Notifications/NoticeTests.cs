using BeijingEts.Domain.Ledger;
using BeijingEts.Functions.Allocation;
using BeijingEts.Functions.Notifications;
using BeijingEts.Functions.Tests.Ledger;
using BeijingEts.Functions.Tests.Lists;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace BeijingEts.Functions.Tests.Notifications;

/// <summary>
/// The app sending its notices' emails to the smtp4dev that test.sh starts (SMTP4DEV_SMTP_PORT), on a fake clock at
/// 10:00 Beijing time on a Thursday, so the Art. 15 window can be walked through; queues run on real time.
/// </summary>
public sealed class NoticeFixture : FastQueueFixture
{
    public FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2026, 11, 26, 2, 0, 0, TimeSpan.Zero));

    public Smtp4dev Inbox { get; } = Smtp4dev.FromEnvironment();

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>(base.Settings)
    {
        ["Ets:Notices:Smtp:Host"] = "127.0.0.1",
        ["Ets:Notices:Smtp:Port"] = Inbox.SmtpPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Ets:Notices:Smtp:Security"] = "None",
        ["Ets:Notices:RetryBaseSeconds"] = "1", // a failed email is tried again a second later, not a minute
    };

    protected override void ConfigureServices(IServiceCollection services) => services.AddSingleton<TimeProvider>(Clock);
}

public sealed class NoticeTests(NoticeFixture app) : IClassFixture<NoticeFixture>
{
    private readonly LedgerClient _ledger = new(app);
    private CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string MailOf(string uscc) => $"env.{uscc.ToLowerInvariant()}@example.cn";

    private async Task<string> UnitWithContactAsync()
    {
        var uscc = await TestUnits.RegisterAsync(_ledger.Regulator);
        var put = await app.Client("unit", uscc).PutAsJsonAsync($"/api/parties/unit:{uscc}/contacts", new { contacts = new[] { new { name = "环保专员 王工", email = MailOf(uscc) } } }, Ct);
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        return uscc;
    }

    private async Task<JsonElement> InboxAsync(HttpClient client, bool unread = false) =>
        await client.GetFromJsonAsync<JsonElement>("/api/notifications" + (unread ? "?unread=true" : ""), Ct);

    private static JsonElement? Find(JsonElement inbox, string id) =>
        inbox.GetProperty("notifications").EnumerateArray().Where(n => n.GetProperty("id").GetString() == id).Select(n => (JsonElement?)n).FirstOrDefault();

    /// <summary>Waits until the party's notice shows the delivery, as the inbox reports it.</summary>
    private async Task<JsonElement> DeliveredAsync(HttpClient client, string id, string delivery = "sent")
    {
        JsonElement? found = null;
        for (var i = 0; i < 300; i++)
        {
            found = Find(await InboxAsync(client), id);
            if (found?.GetProperty("delivery").GetString() == delivery) return found.Value;
            await Task.Delay(100, Ct);
        }
        Assert.Fail($"Notice {id} did not reach delivery '{delivery}'; last seen: {found}");
        return default;
    }

    [Fact]
    public async Task PreAllocation_TellsTheUnitInItsInboxAndByEmail_InChineseThenEnglish()
    {
        const int year = 2025;
        var uscc = await UnitWithContactAsync();
        foreach (var (y, emissions) in new[] { (year - 2, 10_000L), (year - 1, 10_002L), (year, 9_000L) })
        {
            (await _ledger.Regulator.PutAsJsonAsync($"/api/units/{uscc}/statistics/{y}", new { energyConsumptionTce = 5000, directEmissionsT = emissions, indirectEmissionsT = 0 }, Ct))
                .EnsureSuccessStatusCode();
        }
        (await _ledger.Regulator.PostAsync($"/api/lists/{year}/publish", null, Ct)).EnsureSuccessStatusCode();
        await app.ApproveAsync(await _ledger.Regulator.PutAsJsonAsync($"/api/allocation/{year}/plan", new
        {
            cap = 1_000_000, reserveRatio = 0.05m, preAllocationRatio = 0.7m,
            methods = new Dictionary<string, object> { ["cement"] = new { method = "historical-total", baseYears = new[] { year - 2, year - 1 }, controlFactor = 1.0m } },
        }, Ct));

        (await _ledger.Regulator.PostAsync($"/api/allocation/{year}/pre-allocation", null, Ct)).EnsureSuccessStatusCode();

        var unit = app.Client("unit", uscc);
        var notice = await DeliveredAsync(unit, $"allocation-pre-{year}");
        Assert.Equal("allocation.pre-allocated", notice.GetProperty("kind").GetString());
        Assert.Contains("7001", notice.GetProperty("bodyZh").GetString()); // basis 10,001 × 70%, as the allocation record says
        Assert.Equal(7001, (await unit.GetFromJsonAsync<JsonElement>($"/api/allocation/{year}/units/{uscc}", Ct)).GetProperty("preAllocated").GetInt64());
        Assert.Equal(app.Clock.GetUtcNow(), notice.GetProperty("deliveredAt").GetDateTimeOffset());
        Assert.NotNull(Find(await InboxAsync(unit), $"list-{year}-r1-key")); // its inclusion in the list came first

        var mail = Assert.Single(await app.Inbox.ArrivedAsync(MailOf(uscc), 2, Ct), m => m.Subject.Contains("预分配", StringComparison.Ordinal));
        Assert.Contains($"{year} pre-allocation result", mail.Subject, StringComparison.Ordinal);
        var text = await app.Inbox.PlainTextAsync(mail.Id, Ct);
        Assert.True(text.IndexOf("7001 吨", StringComparison.Ordinal) is >= 0 and var zh && text.IndexOf("7001 t", StringComparison.Ordinal) > zh, "Chinese first, the English below:\n" + text);
    }

    [Fact]
    public async Task Inbox_IsTheCallersOwn_AndReadingIsRecordedOnce()
    {
        var uscc = await _ledger.NewAccountAsync();
        var other = await _ledger.NewAccountAsync();
        var suspended = await _ledger.Regulator.PostAsJsonAsync($"/api/accounts/{uscc}/suspensions", new { reason = "court-freeze", reference = "(2026)京01执123号" }, Ct);
        Assert.Equal(HttpStatusCode.Created, suspended.StatusCode);
        var id = $"account-{uscc}-{(await suspended.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("suspensionId").GetString()}";
        var unit = app.Client("unit", uscc);
        // No contacts registered: the notice stays in the inbox and says why no email went.
        var notice = await DeliveredAsync(unit, id, "no-contacts");
        Assert.Contains("(2026)京01执123号", notice.GetProperty("bodyZh").GetString());

        Assert.Null(Find(await InboxAsync(app.Client("unit", other)), id));
        await (await app.Client("unit", other).PostAsync($"/api/notifications/{id}/read", null, Ct)).AssertProblemAsync(HttpStatusCode.NotFound);
        Assert.NotNull(Find(await InboxAsync(unit, unread: true), id));

        var read = await (await unit.PostAsync($"/api/notifications/{id}/read", null, Ct)).Content.ReadFromJsonAsync<JsonElement>(Ct);
        var readAt = read.GetProperty("readAt").GetDateTimeOffset();
        app.Clock.Advance(TimeSpan.FromHours(1));
        var again = await (await unit.PostAsync($"/api/notifications/{id}/read", null, Ct)).Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal(readAt, again.GetProperty("readAt").GetDateTimeOffset());
        Assert.Null(Find(await InboxAsync(unit, unread: true), id));
        Assert.Equal(0, (await InboxAsync(unit, unread: true)).GetProperty("unread").GetInt32());
    }

    [Theory]
    [InlineData("court-freeze", "司法冻结")]
    [InlineData("surrender-risk", "存在配额清缴履约风险")]
    [InlineData("other", "其他原因")]
    public async Task ASuspensionNotice_NamesItsReasonInChinese_InTheChineseText_AndByItsCode_InTheEnglish(string reason, string chinese)
    {
        var uscc = await _ledger.NewAccountAsync();
        var suspended = await _ledger.Regulator.PostAsJsonAsync($"/api/accounts/{uscc}/suspensions", new { reason, reference = "京环执〔2026〕7号" }, Ct);
        Assert.Equal(HttpStatusCode.Created, suspended.StatusCode);
        var view = await suspended.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal(reason, view.GetProperty("reason").GetString()); // the API keeps the code

        var notice = await DeliveredAsync(app.Client("unit", uscc), $"account-{uscc}-{view.GetProperty("suspensionId").GetString()}", "no-contacts");
        var zh = notice.GetProperty("bodyZh").GetString()!;
        Assert.Contains($"{chinese}（京环执〔2026〕7号）", zh, StringComparison.Ordinal);
        Assert.DoesNotMatch("[A-Za-z]{2,}", zh.Replace(uscc, "", StringComparison.Ordinal)); // no English word left in the Chinese, the account number aside
        Assert.Contains($"suspended: {reason} (京环执〔2026〕7号)", notice.GetProperty("bodyEn").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void EverySuspensionReason_HasAChineseLabel()
    {
        var labels = Enum.GetValues<BeijingEts.Functions.Ledger.SuspendAccount.SuspensionReason>().Select(BeijingEts.Functions.Ledger.SuspendAccount.ChineseLabel).ToList();
        Assert.All(labels, label => Assert.Matches(@"^\p{IsCJKUnifiedIdeographs}+$", label));
        Assert.Equal(labels.Count, labels.Distinct().Count());
    }

    [Fact]
    public async Task AContactsChange_IsToldToThePreviousAddressesAndTheNewOnes_WhatWhenAndWho_AndAuditedMasked()
    {
        var uscc = await UnitWithContactAsync();
        var (old, added) = (MailOf(uscc), $"new.{uscc.ToLowerInvariant()}@example.net");
        var unit = app.Client("unit", uscc);
        var at = app.Clock.GetUtcNow().ToOffset(TimeSpan.FromHours(8));

        var put = await unit.PutAsJsonAsync("/api/parties/me/contacts", new { contacts = new[] { new { name = "新联系人", email = added } } }, Ct);
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);

        var notice = Assert.Single(await unit.NoticesAsync("contacts.changed"));
        var sent = await DeliveredAsync(unit, notice.GetProperty("id").GetString()!);
        Assert.Equal(new[] { added, old }.Order(StringComparer.Ordinal), sent.GetProperty("sentTo").EnumerateArray().Select(e => e.GetString()!).Order(StringComparer.Ordinal));
        foreach (var address in new[] { old, added })
        {
            var mail = Assert.Single(await app.Inbox.ArrivedAsync(address, 1, Ct));
            Assert.Contains("联系人已变更", mail.Subject, StringComparison.Ordinal);
            var text = await app.Inbox.PlainTextAsync(mail.Id, Ct);
            Assert.Contains($"已于 {at:yyyy-MM-dd HH:mm}（北京时间）由 unit {uscc} (local:unit:{uscc}) 修改", text, StringComparison.Ordinal);
            Assert.Contains("新增：n***@example.net；移除：e***@example.cn", text, StringComparison.Ordinal);
            Assert.Contains("Added: n***@example.net; removed: e***@example.cn", text, StringComparison.Ordinal);
            Assert.DoesNotContain(old, text, StringComparison.OrdinalIgnoreCase); // the addresses themselves are not in the text
            Assert.DoesNotContain(added, text, StringComparison.OrdinalIgnoreCase);
        }

        var trail = await _ledger.Regulator.GetFromJsonAsync<JsonElement>($"/api/audit?subject=parties/unit:{uscc}/contacts", Ct);
        // Both changes were at the same (fake) instant: the change is the one with addresses before it.
        var change = Assert.Single(trail.GetProperty("entries").EnumerateArray(), e => e.GetProperty("before").ValueKind == JsonValueKind.Object);
        Assert.Equal("local:unit:" + uscc, change.GetProperty("actor").GetString());
        Assert.Equal(["e***@example.cn"], change.GetProperty("before").GetProperty("emails").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(["n***@example.net"], change.GetProperty("after").GetProperty("emails").EnumerateArray().Select(e => e.GetString()));
        Assert.DoesNotContain(trail.GetProperty("entries").EnumerateArray(), e => e.GetRawText().Contains("@example.", StringComparison.Ordinal) && !e.GetRawText().Contains("***@", StringComparison.Ordinal));
        Assert.DoesNotContain(old, trail.GetRawText(), StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(added, trail.GetRawText(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task AContactsChangeThatLeavesNoAddress_StillReachesThePreviousOnes_AndSaysTheRegulatorMadeIt()
    {
        var uscc = await UnitWithContactAsync();
        var unit = app.Client("unit", uscc);
        (await _ledger.Regulator.PutAsJsonAsync($"/api/parties/unit:{uscc}/contacts", new { contacts = Array.Empty<object>() }, Ct)).EnsureSuccessStatusCode();

        var notice = Assert.Single(await unit.NoticesAsync("contacts.changed"));
        var sent = await DeliveredAsync(unit, notice.GetProperty("id").GetString()!); // not "no-contacts": the old address is told
        Assert.Equal([MailOf(uscc)], sent.GetProperty("sentTo").EnumerateArray().Select(e => e.GetString()));
        var text = await app.Inbox.PlainTextAsync(Assert.Single(await app.Inbox.ArrivedAsync(MailOf(uscc), 1, Ct)).Id, Ct);
        Assert.Contains("由 regulator local:regulator 修改。新增：无；移除：e***@example.cn；现有 0 个地址", text, StringComparison.Ordinal);

        // The same (empty) contacts again change nothing and tell nobody again.
        (await _ledger.Regulator.PutAsJsonAsync($"/api/parties/unit:{uscc}/contacts", new { contacts = Array.Empty<object>() }, Ct)).EnsureSuccessStatusCode();
        Assert.Single(await unit.NoticesAsync("contacts.changed"));
    }

    [Fact]
    public async Task AContactsChangeWhoseRequestStoppedBeforeTelling_IsToldWhenTheRequestIsRepeated_Once()
    {
        var uscc = await UnitWithContactAsync();
        var (party, unit) = (Party.Unit(uscc), app.Client("unit", uscc));
        var replaced = new Contact("环保专员 王工", MailOf(uscc));
        var added = new Contact("新联系人", $"stopped.{uscc.ToLowerInvariant()}@example.net");
        // As a request leaves it that saved the new addresses and stopped there: no notice yet.
        var changedAt = app.Clock.GetUtcNow();
        await app.Service<ContactStore>().PutAsync(party, new PartyContacts(party.Key, [added], changedAt, "local:unit:" + uscc,
            new ContactsChange([replaced], changedAt, $"unit {uscc} (local:unit:{uscc})")), Ct);
        Assert.Empty(await unit.NoticesAsync("contacts.changed"));

        // The caller, who got no answer, sends the same request again (twice): the change is told, once, to both addresses.
        for (var i = 0; i < 2; i++)
        {
            (await unit.PutAsJsonAsync("/api/parties/me/contacts", new { contacts = new[] { new { name = added.Name, email = added.Email } } }, Ct)).EnsureSuccessStatusCode();
        }
        var notice = Assert.Single(await unit.NoticesAsync("contacts.changed"));
        var sent = await DeliveredAsync(unit, notice.GetProperty("id").GetString()!);
        Assert.Equal(new[] { added.Email, replaced.Email }.Order(StringComparer.Ordinal), sent.GetProperty("sentTo").EnumerateArray().Select(e => e.GetString()!).Order(StringComparer.Ordinal));
        Assert.Contains("移除：e***@example.cn", notice.GetProperty("bodyZh").GetString(), StringComparison.Ordinal);
        // What the party reads back is its contacts, not the addresses it replaced.
        Assert.DoesNotContain(replaced.Email, await unit.GetStringAsync("/api/parties/me/contacts", Ct), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task ARegulatorReadingANotice_MarksItReadForThatRegulatorOnly()
    {
        var proposal = Guid.NewGuid().ToString("N");
        var draft = NoticeTemplates.ApprovalRequested(proposal, "发放配额 100 吨", "local:regulator:carol");
        await app.Service<NoticeOutbox>().PublishAsync(draft, Ct);
        HttpClient Regulator(string name) => new() { BaseAddress = app.BaseAddress, DefaultRequestHeaders = { Authorization = new("Bearer", app.Token("regulator", name)) } };
        var (alice, bob) = (Regulator("alice"), Regulator("bob"));
        var bobUnread = (await InboxAsync(bob, unread: true)).GetProperty("unread").GetInt32();

        var read = await alice.PostAsync($"/api/notifications/{draft.Id}/read", null, Ct);
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        var readAt = (await read.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("readAt").GetDateTimeOffset();
        Assert.Equal(app.Clock.GetUtcNow(), readAt);

        Assert.Equal(readAt, Find(await InboxAsync(alice), draft.Id)!.Value.GetProperty("readAt").GetDateTimeOffset());
        Assert.Null(Find(await InboxAsync(alice, unread: true), draft.Id));
        var bobs = await InboxAsync(bob, unread: true);
        Assert.Equal(JsonValueKind.Null, Find(bobs, draft.Id)!.Value.GetProperty("readAt").ValueKind);
        Assert.Equal(bobUnread, bobs.GetProperty("unread").GetInt32());

        // Alice reading it again keeps her first reading; Bob's own is his.
        app.Clock.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(readAt, (await (await alice.PostAsync($"/api/notifications/{draft.Id}/read", null, Ct)).Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("readAt").GetDateTimeOffset());
        var bobRead = await (await bob.PostAsync($"/api/notifications/{draft.Id}/read", null, Ct)).Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal(app.Clock.GetUtcNow(), bobRead.GetProperty("readAt").GetDateTimeOffset());
        Assert.Equal(bobUnread - 1, (await InboxAsync(bob, unread: true)).GetProperty("unread").GetInt32());
        // The notice itself keeps its first reading by anyone.
        Assert.Equal(readAt, (await app.Service<NoticeStore>().FindAsync(Party.Regulator, draft.Id, Ct))!.Value.Notice.ReadAt);
    }

    [Fact]
    public async Task Inbox_ListsNewestFirst()
    {
        var uscc = await _ledger.NewAccountAsync();
        var outbox = app.Service<NoticeOutbox>();
        // Written a minute apart, in an order that is neither the ids' nor their reverse.
        await outbox.PublishAsync(NoticeTemplates.PreAllocation(uscc, 2040, new Tonnes(100)), Ct);
        app.Clock.Advance(TimeSpan.FromMinutes(1));
        await outbox.PublishAsync(NoticeTemplates.ListIncluded(uscc, 2040, 1, "key"), Ct);
        app.Clock.Advance(TimeSpan.FromMinutes(1));
        await outbox.PublishAsync(NoticeTemplates.ComplianceStatus(uscc, 2040, "compliant", Tonnes.Zero), Ct);

        var listed = (await InboxAsync(app.Client("unit", uscc))).GetProperty("notifications").EnumerateArray()
            .Where(n => n.GetProperty("id").GetString()!.Contains("2040", StringComparison.Ordinal)).ToList();
        Assert.Equal(["compliance-2040", "list-2040-r1-key", "allocation-pre-2040"], listed.Select(n => n.GetProperty("id").GetString()));
        Assert.True(listed[0].GetProperty("createdAt").GetDateTimeOffset() > listed[1].GetProperty("createdAt").GetDateTimeOffset());
    }

    [Fact]
    public async Task ObjectionWindow_RunsFromTheNoticesReceipt_NotFromItsIssue()
    {
        // Issued long ago, but its notice never reached the unit: the seven working days have not begun.
        var unread = await _ledger.NewAccountAsync();
        await AllocateAsync(2026, unread, issuedOn: new DateOnly(2026, 1, 5));
        var filed = await app.Client("unit", unread).PostAsJsonAsync($"/api/allocation/2026/units/{unread}/objections", new { reason = "基准年数据有误" }, Ct);
        Assert.Equal(HttpStatusCode.Created, filed.StatusCode);
        var first = (await filed.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("objection");
        Assert.Equal("2026-11-26", first.GetProperty("receivedOn").GetString());

        // Read in the inbox on Thursday 26 November: the window ends on the seventh working day after, Monday 7 December.
        var read = await _ledger.NewAccountAsync();
        await AllocateAsync(2026, read, issuedOn: new DateOnly(2026, 1, 5));
        (await app.Client("unit", read).PostAsync("/api/notifications/allocation-pre-2026/read", null, Ct)).EnsureSuccessStatusCode();
        app.Clock.Advance(TimeSpan.FromDays(12)); // Tuesday 8 December (the class's other tests do not mind the later date)
        var late = await app.Client("unit", read).PostAsJsonAsync($"/api/allocation/2026/units/{read}/objections", new { reason = "late" }, Ct);
        var problem = await late.AssertProblemAsync(HttpStatusCode.UnprocessableEntity);
        Assert.Contains("received on 2026-11-26", problem.Detail);
        Assert.Contains("due by 2026-12-07", problem.Detail);
        Assert.Contains("issued on 2026-01-05", problem.Detail);

        // Never emailed nor read: it counts as received five working days after it reached the inbox (Thursday 3
        // December), so the window is open on the 8th and closes on Monday 14 December, not never.
        var deemed = await app.Client("unit", unread).PostAsync("/api/notifications/allocation-pre-2026/read", null, Ct); // read only now, on the 8th
        Assert.Equal(HttpStatusCode.OK, deemed.StatusCode);
        var decided = await _ledger.Regulator.PostAsJsonAsync($"/api/objections/{first.GetProperty("id").GetString()}/decision",
            new { outcome = "rejected", explanation = "基准年数据无误" }, Ct);
        Assert.Equal(HttpStatusCode.OK, decided.StatusCode);
        var again = await app.Client("unit", unread).PostAsJsonAsync($"/api/allocation/2026/units/{unread}/objections", new { reason = "再次异议" }, Ct);
        Assert.Equal(HttpStatusCode.Created, again.StatusCode);
        Assert.Equal("2026-12-03", (await again.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("objection").GetProperty("receivedOn").GetString());
        app.Clock.Advance(TimeSpan.FromDays(5)); // Sunday 13th: still open; Monday 14th: the last day; Tuesday 15th: closed
        await (await app.Client("unit", unread).PostAsJsonAsync($"/api/allocation/2026/units/{unread}/objections", new { reason = "third" }, Ct)).AssertProblemAsync(HttpStatusCode.Conflict);
        app.Clock.Advance(TimeSpan.FromDays(2));
        var closed = await app.Client("unit", unread).PostAsJsonAsync($"/api/allocation/2026/units/{unread}/objections", new { reason = "third" }, Ct);
        Assert.Contains("due by 2026-12-14", (await closed.AssertProblemAsync(HttpStatusCode.UnprocessableEntity)).Detail);
    }

    /// <summary>An allocation record issued on the day, and its notice, as pre-allocation writes them.</summary>
    private async Task AllocateAsync(int year, string uscc, DateOnly issuedOn)
    {
        await app.Service<AllocationStore>().PutManyAsync([new UnitAllocation(year, uscc, "cement", "historical-total", new Tonnes(10_000), new Tonnes(7_000), issuedOn, null)], Ct);
        await app.Service<NoticeOutbox>().PublishAsync(NoticeTemplates.PreAllocation(uscc, year, new Tonnes(7_000)), Ct);
    }

    [Fact]
    public async Task Contacts_AreThePartysOwn_AndBadAddressesAreRefusedWithNothingWritten()
    {
        var uscc = await UnitWithContactAsync();
        var unit = app.Client("unit", uscc);
        var bad = await unit.PutAsJsonAsync("/api/parties/me/contacts", new { contacts = new[] { new { name = "王工", email = "not-an-address" } } }, Ct);
        Assert.Contains("contacts[0].email", (await bad.AssertProblemAsync(HttpStatusCode.BadRequest)).Detail);
        var kept = await unit.GetFromJsonAsync<JsonElement>("/api/parties/me/contacts", Ct);
        Assert.Equal(MailOf(uscc), kept.GetProperty("contacts")[0].GetProperty("email").GetString());

        await (await app.Client("unit", TestUnits.NewUscc()).GetAsync($"/api/parties/unit:{uscc}/contacts", Ct)).AssertProblemAsync(HttpStatusCode.NotFound);
        await (await app.Client("district", "朝阳区").PutAsJsonAsync($"/api/parties/unit:{uscc}/contacts", new { contacts = Array.Empty<object>() }, Ct))
            .AssertProblemAsync(HttpStatusCode.NotFound);
        await (await _ledger.Regulator.GetAsync("/api/parties/nobody/contacts", Ct)).AssertProblemAsync(HttpStatusCode.BadRequest);
        // The regulator keeps the district bureaus' contacts, and its own.
        Assert.Equal(HttpStatusCode.OK, (await _ledger.Regulator.PutAsJsonAsync("/api/parties/district:朝阳区/contacts",
            new { contacts = new[] { new { name = "朝阳区生态环境局", email = "chaoyang@example.cn" } } }, Ct)).StatusCode);
        var district = await app.Client("district", "朝阳区").GetFromJsonAsync<JsonElement>("/api/parties/me/contacts", Ct);
        Assert.Equal("chaoyang@example.cn", district.GetProperty("contacts")[0].GetProperty("email").GetString());
    }

    /// <summary>A notice written as an event writes it (owed an email), but not queued: the test delivers it by hand.</summary>
    private async Task<NoticeDraft> OwedNoticeAsync(string uscc, int year)
    {
        var draft = NoticeTemplates.ListIncluded(uscc, year, 1, "key");
        var store = app.Service<NoticeStore>();
        await store.AddNewAsync([new Notice(draft.Id, draft.To.Key, draft.Kind, draft.Text.SubjectZh, draft.Text.BodyZh, draft.Text.SubjectEn, draft.Text.BodyEn,
            draft.Link, app.Clock.GetUtcNow(), "pending")], Ct);
        await store.MarkOwedAsync([(draft.To.Key, draft.Id)], app.Clock.GetUtcNow(), Ct);
        return draft;
    }

    /// <summary>The worker as the queue runs it, but sending through a relay nobody listens on.</summary>
    private DeliverNotices DeadRelay(int maxAttempts)
    {
        var settings = app.Service<NoticeSettings>() with
        {
            Smtp = new SmtpSettings("127.0.0.1", TcpPorts.Free(), MailKit.Security.SecureSocketOptions.None, null, null, "n@example.cn", "平台"),
        };
        settings = settings with { MaxAttempts = maxAttempts };
        return ActivatorUtilities.CreateInstance<DeliverNotices>(app.App.Services, new SmtpNoticeMailer(settings), settings, NullLogger<DeliverNotices>.Instance);
    }

    private static QueueTriggerMessage MessageFor(NoticeDraft draft) =>
        new("m", JsonSerializer.Serialize(new DeliverNotices.Message(draft.To.Key, [draft.Id]), new JsonSerializerOptions(JsonSerializerDefaults.Web)), 1, null);

    [Fact]
    public async Task ARelayThatFails_IsTriedAgainLater_AndTheEmailGoesOnceItIsBack()
    {
        var uscc = await UnitWithContactAsync();
        var draft = await OwedNoticeAsync(uscc, 2032);

        await DeadRelay(maxAttempts: 8).RunAsync(MessageFor(draft), Ct); // no throw: the queue's quick retries are not the backoff
        var retrying = (await app.Client("unit", uscc).NoticeAsync(draft.Id))!.Value;
        Assert.Equal(("retrying", 1), (retrying.GetProperty("delivery").GetString(), retrying.GetProperty("attempts").GetInt32()));
        Assert.Contains("could not be reached", retrying.GetProperty("lastError").GetString());
        Assert.Equal(app.Clock.GetUtcNow().AddSeconds(1), retrying.GetProperty("nextAttemptAt").GetDateTimeOffset());

        // The retry, queued for a second later, finds the app's own relay (smtp4dev) working.
        var sent = await DeliveredAsync(app.Client("unit", uscc), draft.Id);
        Assert.Equal(2, sent.GetProperty("attempts").GetInt32());
        Assert.Single(await app.Inbox.ArrivedAsync(MailOf(uscc), 1, Ct));
        Assert.Empty(await app.Service<NoticeStore>().OverdueAsync(DateTimeOffset.MaxValue, Ct) is var owed ? owed.Where(o => o.Id == draft.Id && o.Party == draft.To.Key) : []);
    }

    [Fact]
    public async Task AfterTheLastTry_TheNoticeIsADeadLetter_NotSentBehindTheRegulatorsBack_UntilTheRegulatorSendsItAgain()
    {
        var uscc = await UnitWithContactAsync();
        var draft = await OwedNoticeAsync(uscc, 2033);

        await DeadRelay(maxAttempts: 1).RunAsync(MessageFor(draft), Ct);
        var dead = (await app.Client("unit", uscc).NoticeAsync(draft.Id))!.Value;
        Assert.Equal("dead-lettered", dead.GetProperty("delivery").GetString());
        var letters = await _ledger.Regulator.GetFromJsonAsync<JsonElement>("/api/notifications/dead-letters", Ct);
        Assert.Contains(letters.EnumerateArray(), l => l.GetProperty("party").GetString() == draft.To.Key && l.GetProperty("id").GetString() == draft.Id);
        await (await app.Client("unit", uscc).GetAsync("/api/notifications/dead-letters", Ct)).AssertProblemAsync(HttpStatusCode.Forbidden);

        // A redelivered message, through the relay that works, sends nothing: a dead letter waits for the regulator.
        await ActivatorUtilities.CreateInstance<DeliverNotices>(app.App.Services, NullLogger<DeliverNotices>.Instance).RunAsync(MessageFor(draft), Ct);
        await ActivatorUtilities.CreateInstance<ResendOwedNotices>(app.App.Services).RunAsync(new TimerTriggerInfo(false, null, DateTimeOffset.UtcNow), Ct);
        Assert.Empty(await app.Inbox.MessagesToAsync(MailOf(uscc), Ct));

        await (await app.Client("unit", uscc).PostAsJsonAsync("/api/notifications/dead-letters/retry", new { party = draft.To.Key }, Ct)).AssertProblemAsync(HttpStatusCode.Forbidden);
        var retried = await _ledger.Regulator.PostAsJsonAsync("/api/notifications/dead-letters/retry", new { party = draft.To.Key }, Ct);
        Assert.Equal(1, (await retried.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("notices").GetInt32());
        await DeliveredAsync(app.Client("unit", uscc), draft.Id);
        Assert.Single(await app.Inbox.ArrivedAsync(MailOf(uscc), 1, Ct));
        Assert.DoesNotContain((await _ledger.Regulator.GetFromJsonAsync<JsonElement>("/api/notifications/dead-letters", Ct)).EnumerateArray(),
            l => l.GetProperty("id").GetString() == draft.Id && l.GetProperty("party").GetString() == draft.To.Key);
    }

    [Fact]
    public async Task AContactsChangeNotice_TriedAgainAfterTheRelayFailed_StillGoesToThePreviousAddress()
    {
        var uscc = await UnitWithContactAsync();
        var (party, added) = (Party.Unit(uscc), new Contact("新联系人", $"retry.{uscc.ToLowerInvariant()}@example.net"));
        await app.Service<ContactStore>().PutAsync(party, new PartyContacts(party.Key, [added], app.Clock.GetUtcNow(), "local:unit:" + uscc), Ct);
        var draft = NoticeTemplates.ContactsChanged(party, [new Contact("环保专员 王工", MailOf(uscc))], [added], app.Clock.GetUtcNow(),
            NoticeTemplates.Who(new BeijingEts.Functions.Auth.Actor("local:unit:" + uscc, "unit", uscc)));
        var store = app.Service<NoticeStore>();
        await store.AddNewAsync([new Notice(draft.Id, party.Key, draft.Kind, draft.Text.SubjectZh, draft.Text.BodyZh, draft.Text.SubjectEn, draft.Text.BodyEn, draft.Link,
            app.Clock.GetUtcNow(), "pending", AlsoTo: draft.AlsoTo)], Ct);
        await store.MarkOwedAsync([(party.Key, draft.Id)], app.Clock.GetUtcNow(), Ct);

        await DeadRelay(maxAttempts: 8).RunAsync(MessageFor(draft), Ct);
        Assert.Equal("retrying", (await app.Client("unit", uscc).NoticeAsync(draft.Id))!.Value.GetProperty("delivery").GetString());

        var sent = await DeliveredAsync(app.Client("unit", uscc), draft.Id); // the retry, through smtp4dev
        Assert.Equal(new[] { MailOf(uscc), added.Email }.Order(StringComparer.Ordinal), sent.GetProperty("sentTo").EnumerateArray().Select(e => e.GetString()!).Order(StringComparer.Ordinal));
        Assert.Single(await app.Inbox.ArrivedAsync(MailOf(uscc), 1, Ct));
        Assert.Single(await app.Inbox.ArrivedAsync(added.Email, 1, Ct));
    }

    [Fact]
    public async Task ANoticeWhoseQueueMessageWasLost_IsSentByTheSweep()
    {
        var uscc = await UnitWithContactAsync();
        var draft = await OwedNoticeAsync(uscc, 2034); // owed, never queued: as if the process stopped between the two
        var sweep = ActivatorUtilities.CreateInstance<ResendOwedNotices>(app.App.Services);
        await sweep.RunAsync(new TimerTriggerInfo(false, null, DateTimeOffset.UtcNow), Ct);
        Assert.Equal("pending", (await app.Client("unit", uscc).NoticeAsync(draft.Id))!.Value.GetProperty("delivery").GetString()); // not due yet

        app.Clock.Advance(ResendOwedNotices.Grace + TimeSpan.FromSeconds(1));
        await sweep.RunAsync(new TimerTriggerInfo(false, null, DateTimeOffset.UtcNow), Ct);
        await DeliveredAsync(app.Client("unit", uscc), draft.Id);
        Assert.Single(await app.Inbox.ArrivedAsync(MailOf(uscc), 1, Ct));
    }

    [Fact]
    public async Task ANoticeDeliveredTwice_IsOneEmail_AndAStepRunAgainWritesNoSecondNotice()
    {
        var uscc = await UnitWithContactAsync();
        var outbox = app.Service<NoticeOutbox>();
        var draft = NoticeTemplates.ComplianceStatus(uscc, 2030, "non-compliant", new Tonnes(1_234));
        await outbox.PublishAsync(draft, Ct);
        var unit = app.Client("unit", uscc);
        var first = await DeliveredAsync(unit, draft.Id);
        await outbox.PublishAsync(draft, Ct); // the assessment batch runs again

        var deliver = ActivatorUtilities.CreateInstance<DeliverNotices>(app.App.Services, NullLogger<DeliverNotices>.Instance);
        var body = JsonSerializer.Serialize(new DeliverNotices.Message(Party.Unit(uscc).Key, [draft.Id]), new JsonSerializerOptions(JsonSerializerDefaults.Web));
        await deliver.RunAsync(new("again", body, 1, null), Ct); // a redelivered queue message

        var inbox = await InboxAsync(unit);
        Assert.Single(inbox.GetProperty("notifications").EnumerateArray(), n => n.GetProperty("id").GetString() == draft.Id);
        Assert.Equal(first.GetProperty("deliveredAt").GetDateTimeOffset(), Find(inbox, draft.Id)!.Value.GetProperty("deliveredAt").GetDateTimeOffset());
        var mail = Assert.Single(await app.Inbox.ArrivedAsync(MailOf(uscc), 2, Ct)); // waits for a second that must not come
        Assert.Contains("1234", await app.Inbox.PlainTextAsync(mail.Id, Ct));
    }
}
