namespace BeijingEts.Functions.Notifications;

public static class NotificationServices
{
    public static IServiceCollection AddNotifications(this IServiceCollection services) => services
        .AddSingleton(sp => NoticeSettings.From(sp.GetRequiredService<IConfiguration>()))
        .AddSingleton<NoticeStore>()
        .AddSingleton<NoticeOutbox>()
        .AddSingleton<ContactStore>()
        .AddSingleton<ReminderService>()
        .AddSingleton<INoticeMailer, SmtpNoticeMailer>();
}
